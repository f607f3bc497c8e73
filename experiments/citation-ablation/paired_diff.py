"""Paired comparison of two scored runs on their shared questions (B − A, bootstrap CI).

    python experiments/citation-ablation/paired_diff.py headline-plain headline-best [--system rag/qwen2.5-0.5b]

Each run is a directory under results/ (or a path); both must be scored by the same judge
(default: the default LLM judge's scores file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.evaluation.paired import PAIRED_METRICS, compare, diff_markdown, read_scores
from rag.evaluation.rundir import scores_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a")
    ap.add_argument("run_b")
    ap.add_argument("--system", default=None, help="system in both runs (needed when a run has several)")
    ap.add_argument("--judge", default="llm:qwen2.5-1.5b", help="the judge whose scores file is read")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions of run A")
    ap.add_argument("--samples", type=int, default=10_000, help="bootstrap resamples")
    ap.add_argument("--results-dir", type=Path, default=Path("results"))
    args = ap.parse_args(argv)
    dirs = [Path(r) if Path(r).is_dir() else args.results_dir / r for r in (args.run_a, args.run_b)]
    try:
        a, b = (read_scores(scores_path(d, args.judge), args.system) for d in dirs)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.limit is not None:
        a = dict(list(a.items())[: args.limit])
    diffs = compare(a, b, PAIRED_METRICS, samples=args.samples)
    print(f"A = {dirs[0].name}, B = {dirs[1].name}, judge {args.judge}, {args.samples} bootstrap resamples (seed 0)\n")
    print(diff_markdown(diffs, dirs[0].name, dirs[1].name), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
