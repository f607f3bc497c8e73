"""The ``rag`` command line: a thin layer over the Python API (``rag.cli.commands`` holds the commands)."""

from rag.cli.commands import app, main

__all__ = ["app", "main"]
