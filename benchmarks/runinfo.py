"""The lines a benchmark's output opens with: the command as it was run, and the machine.

Imported by the benchmark scripts, which run as ``python benchmarks/<script>.py`` (so this folder
is on ``sys.path``)."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def opening_lines(note: str = "") -> list[str]:
    """``$ python benchmarks/<script> <arguments>`` and ``# <machine>, <n> CPUs, load average at
    start <x>``, then ``; <note>`` when given."""
    script = Path(sys.argv[0]).name
    machine = f"# {platform.machine()}, {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}"
    return [f"$ python benchmarks/{script} " + " ".join(sys.argv[1:]), machine + (f"; {note}" if note else "")]
