"""What every CLI command shares: bad input becomes one red line and exit code 1."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import NoReturn

import typer

log = logging.getLogger(__name__)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with code 1."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@contextlib.contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn the library's validation errors into one clear line instead of a traceback."""
    try:
        yield
    except (ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        log.debug("command failed", exc_info=True)
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except ImportError as exc:
        fail(f"{exc} (is the package installed? see README 'Install')")
    except KeyboardInterrupt:
        fail("interrupted")
