"""What every CLI command shares: expected failures become one red line, bugs keep their traceback.

- :class:`rag.errors.RagError` (bad input, a missing file or model, a state the user can fix) and
  ``PermissionError`` are printed as ``error: <first line>`` with exit code 1; with ``-v`` the
  traceback is logged too.
- A missing optional package (``ModuleNotFoundError`` for a module outside ``rag``) says what to
  install, exit code 1.
- A full disk or a read-only file system (``OSError`` ENOSPC, EDQUOT, EROFS) says so in one line.
- Ctrl-C prints ``interrupted`` and exits with 130 (128 + SIGINT), without a traceback.
- Anything else is a bug: it propagates with its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Iterator
from typing import NoReturn

import typer

from rag.errors import RagError

log = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def fail(message: str) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with code 1."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(EXIT_ERROR)


def first_line(exc: BaseException) -> str:
    """An exception's message as one line (its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn the library's expected failures into one clear line instead of a traceback."""
    try:
        yield
    except (RagError, PermissionError) as exc:
        log.info("command failed", exc_info=True)  # the traceback, shown with -v
        fail(first_line(exc))
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "rag":
            raise  # the project's own module: a bug, not a missing install
        log.info("command failed", exc_info=True)
        fail(f"{exc} (is the package installed? see the README's install commands)")
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        log.info("command failed", exc_info=True)
        where = f" writing {exc.filename}" if exc.filename else ""
        fail(f"{exc.strerror or exc}{where}: free some space, or write somewhere else")
    except KeyboardInterrupt:
        typer.secho("interrupted", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
