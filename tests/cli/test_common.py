"""rag.cli.common: the CLI's error contract (an expected error is one line and exit 1, a bug keeps
its traceback, ^C exits 130, -v logs the traceback), on cheap commands with the model lookups and
loads monkeypatched away."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from conftest import lines, raising
from typer.testing import CliRunner

import rag.cli.commands as app_module
from rag.cli import app
from rag.errors import MissingFileError, RagError
from rag.pipeline import Pipeline

if TYPE_CHECKING:
    from conftest import ScriptedGenerator

runner = CliRunner()


@pytest.fixture(autouse=True)
def rag_log_level() -> Iterator[None]:
    """`-v` sets the level of the "rag" logger for the process: put it back after each test."""
    logger = logging.getLogger("rag")
    level = logger.level
    yield
    logger.setLevel(level)


# ---------------------------------------------------------------- expected errors: one line


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (RagError("the registry is empty\nsecond line of detail"), "error: the registry is empty"),
        (MissingFileError("models.json not found"), "error: models.json not found"),
        (PermissionError("cannot write the cache"), "error: cannot write the cache"),
        (RagError(""), "error: RagError"),  # no message: the type's name
        (
            ModuleNotFoundError("No module named 'llama_cpp'", name="llama_cpp"),
            "error: No module named 'llama_cpp' (is the package installed? see the README's install commands)",
        ),
    ],
)
def test_expected_error_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch, exc: BaseException, line: str) -> None:
    monkeypatch.setattr(app_module, "model_status", raising(exc))
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 1
    assert lines(result.output) == [line]
    assert "Traceback" not in result.output


def test_expected_error_inside_ask(
    monkeypatch: pytest.MonkeyPatch, scripted_generator: type[ScriptedGenerator]
) -> None:
    # a pipeline without an index asked to retrieve: the RagError comes from deep inside `ask`
    gen = scripted_generator("Never said.")
    monkeypatch.setattr(Pipeline, "from_names", lambda *a, config, **kw: Pipeline(gen, None, config))
    result = runner.invoke(app, ["ask", "Where was tea first drunk?"])
    assert result.exit_code == 1
    assert lines(result.output) == [
        "error: this pipeline has no index: build one with `rag index PATH` or pass passages"
    ]
    assert "Traceback" not in result.output
    assert gen.messages == []


@pytest.mark.parametrize(
    "exc",
    [
        ZeroDivisionError("division by zero"),
        RuntimeError("a bug"),
        ModuleNotFoundError("No module named 'rag.gone'", name="rag.gone"),  # the project's own module
    ],
)
def test_unexpected_exception_is_not_swallowed(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    monkeypatch.setattr(app_module, "model_status", raising(exc))
    result = runner.invoke(app, ["models"])
    assert result.exception is exc
    assert result.exit_code != 0
    assert "error:" not in result.output


def test_unexpected_exception_inside_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    bug = ZeroDivisionError("division by zero")
    monkeypatch.setattr(Pipeline, "from_names", raising(bug))
    result = runner.invoke(app, ["ask", "q"])
    assert result.exception is bug and result.exit_code != 0


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "model_status", raising(KeyboardInterrupt()))
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 130
    assert lines(result.output) == ["interrupted"]
    assert "Traceback" not in result.output


def test_verbose_logs_the_traceback_of_an_expected_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    err = RagError("the registry is empty")
    monkeypatch.setattr(app_module, "model_status", raising(err))
    quiet = runner.invoke(app, ["models"])
    assert lines(quiet.output) == ["error: the registry is empty"]
    assert not [r for r in caplog.records if r.exc_info]  # without -v: no traceback logged
    result = runner.invoke(app, ["-v", "models"])
    assert result.exit_code == 1
    assert lines(result.output) == ["error: the registry is empty"]
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and logged[0].name == "rag.cli.common" and logged[0].levelno == logging.INFO
    assert logged[0].exc_info is not None and logged[0].exc_info[1] is err
    assert "Traceback (most recent call last)" in caplog.text and "RagError: the registry is empty" in caplog.text
