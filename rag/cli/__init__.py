"""The ``rag`` command line: a thin layer over the Python API (``rag.cli.app`` holds the commands)."""

from rag.cli.app import app, main

__all__ = ["app", "main"]
