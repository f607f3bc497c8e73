"""The project's exception types: expected failures that the CLI shows as one line.

Anything else that escapes a command is a bug and is shown with its traceback.
"""

from __future__ import annotations


class RagError(ValueError):
    """Bad input or a state the user can fix (the message says how). A ``ValueError``, so code
    that catches ``ValueError`` keeps working."""


class MissingFileError(RagError, FileNotFoundError):
    """A file or folder the user named, or that a step needs, is not there."""
