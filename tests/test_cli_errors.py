"""The CLI's error contract (rag.cli.common) and the options `rag ask` and `rag eval` share
(rag.cli.options), on cheap commands with the model lookups and loads monkeypatched away."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import typer
from typer.testing import CliRunner

from rag.citing.evidence import EvidenceConfig
from rag.cli import app
from rag.cli.options import PIPELINE_OPTIONS, parse_weights, pipeline_config
from rag.errors import MissingFileError, RagError
from rag.generation import GenerationConfig
from rag.pipeline import Pipeline, PipelineConfig
from rag.retrieval import RetrievalConfig
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import FakeIndex, ScriptedGenerator

import rag.cli.commands as app_module  # noqa: E402

runner = CliRunner()


@pytest.fixture(autouse=True)
def rag_log_level() -> Iterator[None]:
    """`-v` sets the level of the "rag" logger for the process: put it back after each test."""
    logger = logging.getLogger("rag")
    level = logger.level
    yield
    logger.setLevel(level)


def _raise(exc: BaseException) -> Any:
    def fake(*args: object, **kwargs: object) -> Any:
        raise exc

    return fake


def _lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.strip()]


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
    monkeypatch.setattr(app_module, "model_status", _raise(exc))
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 1
    assert _lines(result.output) == [line]
    assert "Traceback" not in result.output


def test_expected_error_inside_ask(
    monkeypatch: pytest.MonkeyPatch, scripted_generator: type[ScriptedGenerator]
) -> None:
    # a pipeline without an index asked to retrieve: the RagError comes from deep inside `ask`
    gen = scripted_generator("Never said.")
    monkeypatch.setattr(Pipeline, "from_names", lambda *a, config, **kw: Pipeline(gen, None, config))
    result = runner.invoke(app, ["ask", "Where was tea first drunk?"])
    assert result.exit_code == 1
    assert _lines(result.output) == [
        "error: this pipeline has no index: build one with `rag index PATH` or pass passages"
    ]
    assert "Traceback" not in result.output
    assert gen.messages == []


# ---------------------------------------------------------------- bugs keep their traceback


@pytest.mark.parametrize(
    "exc",
    [
        ZeroDivisionError("division by zero"),
        RuntimeError("a bug"),
        ModuleNotFoundError("No module named 'rag.gone'", name="rag.gone"),  # the project's own module
    ],
)
def test_unexpected_exception_is_not_swallowed(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    monkeypatch.setattr(app_module, "model_status", _raise(exc))
    result = runner.invoke(app, ["models"])
    assert result.exception is exc
    assert result.exit_code != 0
    assert "error:" not in result.output


def test_unexpected_exception_inside_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    bug = ZeroDivisionError("division by zero")
    monkeypatch.setattr(Pipeline, "from_names", _raise(bug))
    result = runner.invoke(app, ["ask", "q"])
    assert result.exception is bug and result.exit_code != 0


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "model_status", _raise(KeyboardInterrupt()))
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 130
    assert _lines(result.output) == ["interrupted"]
    assert "Traceback" not in result.output


def test_verbose_logs_the_traceback_of_an_expected_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    err = RagError("the registry is empty")
    monkeypatch.setattr(app_module, "model_status", _raise(err))
    quiet = runner.invoke(app, ["models"])
    assert _lines(quiet.output) == ["error: the registry is empty"]
    assert not [r for r in caplog.records if r.exc_info]  # without -v: no traceback logged
    result = runner.invoke(app, ["-v", "models"])
    assert result.exit_code == 1
    assert _lines(result.output) == ["error: the registry is empty"]
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and logged[0].name == "rag.cli.common" and logged[0].levelno == logging.INFO
    assert logged[0].exc_info is not None and logged[0].exc_info[1] is err
    assert "Traceback (most recent call last)" in caplog.text and "RagError: the registry is empty" in caplog.text


# ---------------------------------------------------------------- the shared options


def _spellings() -> list[list[str]]:
    """Every flag of each shared option, e.g. ["--hide-unsupported", "--show-unsupported"]."""
    out = []
    for o in PIPELINE_OPTIONS:
        out.append([flag for decl in o.option.param_decls for flag in decl.split("/")])
    return out


def test_every_shared_option_has_a_long_flag() -> None:
    spellings = _spellings()
    assert len(spellings) == len(PIPELINE_OPTIONS) == 19
    assert all(any(f.startswith("--") for f in flags) for flags in spellings)
    flat = [f for flags in spellings for f in flags]
    assert len(flat) == len(set(flat))  # no flag declared twice
    for expected in (
        "--show-unsupported",
        "--rrf-k",
        "--max-tokens",
        "--no-quote-fallback",
        "--attribution-judge",
        "--evidence-scorer",
    ):
        assert expected in flat


@pytest.mark.parametrize("command", [["ask"], ["eval"], ["serve"]])
def test_help_lists_every_shared_flag(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    for flags in _spellings():
        for flag in flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"{flag} not in `{command[0]} --help`"


def test_ask_eval_and_serve_declare_the_shared_flags_identically() -> None:
    root = typer.main.get_command(app)
    commands = root.commands  # type: ignore[attr-defined]

    def declared(command: Any) -> dict[str, set[str]]:
        return {p.name: {*p.opts, *getattr(p, "secondary_opts", [])} for p in command.params}

    ask, evaluate, serve = declared(commands["ask"]), declared(commands["eval"]), declared(commands["serve"])
    for o, flags in zip(PIPELINE_OPTIONS, _spellings(), strict=True):
        assert ask[o.name] == evaluate[o.name] == serve[o.name] == set(flags), o.name


def test_pipeline_config_from_flag_values() -> None:
    config = pipeline_config(
        k=3,
        mode="dense",
        fusion="weighted",
        rrf_k=60,
        weights="2,0.5",
        norm="zscore",
        bm25_depth=7,
        dense_depth=9,
        prompt="default",
        max_tokens=64,
        constrain=True,
        cite="model",
        hide_unsupported=False,
        quote_fallback=False,
        quote_words=40,
        evidence_scorer="hand",
        reader=False,
        samples=2,
        attribution_judge="llm:qwen2.5-1.5b",
    )
    assert config == PipelineConfig(
        k=3,
        retrieval=RetrievalConfig(
            mode="dense", fusion="weighted", rrf_k=60, weights=(2.0, 0.5), norm="zscore", bm25_depth=7, dense_depth=9
        ),
        generation=GenerationConfig(max_tokens=64),
        prompt="default",
        constrain_citations=True,
        cite="model",
        samples=2,
        hide_unsupported=False,
        quote_fallback=False,
        evidence=EvidenceConfig(quote_words=40, scorer="hand", reader=False),
        attribution_judge="llm:qwen2.5-1.5b",
    )


def test_option_defaults_are_the_library_defaults() -> None:
    assert pipeline_config(**{o.name: o.option.default for o in PIPELINE_OPTIONS}) == PipelineConfig()


@pytest.mark.parametrize(("text", "expected"), [("1,3", (1.0, 3.0)), ("0.5, 2", (0.5, 2.0)), ("0,1e1", (0.0, 10.0))])
def test_parse_weights(text: str, expected: tuple[float, float]) -> None:
    assert parse_weights(text) == expected


@pytest.mark.parametrize("text", ["1", "1,2,3", "a,b", "", "1;2"])
def test_parse_weights_rejects(text: str) -> None:
    with pytest.raises(RagError, match=re.escape(f"--weights takes two numbers 'BM25,DENSE', got {text!r}")):
        parse_weights(text)


def test_flags_reach_the_pipeline(
    monkeypatch: pytest.MonkeyPatch, scripted_generator: type[ScriptedGenerator], fake_index: type[FakeIndex]
) -> None:
    seen: dict[str, Any] = {}
    gen = scripted_generator("Text two [2].")
    index = fake_index([Passage(f"p{i}", f"text {i}") for i in range(6)], [1, 0, 2, 5], [0, 3, 2, 4])

    def from_names(index_name: str, generator: str, *, config: PipelineConfig, judge: str | None, device: str) -> Any:
        seen.update(index=index_name, generator=generator, config=config, judge=judge, device=device)
        return Pipeline(gen, index, config)  # type: ignore[arg-type]

    monkeypatch.setattr(Pipeline, "from_names", from_names)
    args = ["ask", "q", "-i", "my-index", "-g", "gen-x", "--device", "cpu", "--json"]
    flags = ["--k", "2", "--rrf-k", "60", "--weights", "1,1", "--max-tokens", "50", "--prompt", "default"]
    flags += ["--cite", "model", "--show-unsupported", "--no-quote-fallback"]
    result = runner.invoke(app, [*args, *flags])
    assert result.exit_code == 0, result.output
    assert seen == {
        "index": "my-index",
        "generator": "gen-x",
        "config": PipelineConfig(
            k=2,
            retrieval=RetrievalConfig(rrf_k=60, weights=(1.0, 1.0)),
            generation=GenerationConfig(max_tokens=50),
            prompt="default",
            cite="model",
            hide_unsupported=False,
            quote_fallback=False,
        ),
        "judge": None,
        "device": "cpu",
    }
    assert gen.configs == [GenerationConfig(max_tokens=50)]
    assert '"answer": "Text two [2]."' in result.output
    # RRF with k = 60 on the fake index: p0 then p2; [2] cites p2
    assert '"passage_id": "p2"' in result.output and index.embedder.batches == [1]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["ask", "q", "--weights", "a,b"], "error: --weights takes two numbers 'BM25,DENSE', got 'a,b'"),
        (["eval", "--weights", "1,2,3"], "error: --weights takes two numbers 'BM25,DENSE', got '1,2,3'"),
        (["ask", "q", "--rrf-k", "-1"], "error: rrf_k must be >= 0, got -1"),
        (["eval", "--cite", "magic"], "error: unknown citation mode 'magic'; choose one of model, posthoc"),
        (["ask", "q", "--max-tokens", "0"], "error: max_tokens must be at least 1, got 0"),
        (["eval", "--evidence-scorer", "best"], "error: scorer must be one of learned, hand, got 'best'"),
    ],
)
def test_bad_shared_option_is_one_line(monkeypatch: pytest.MonkeyPatch, args: list[str], line: str) -> None:
    monkeypatch.setattr(Pipeline, "from_names", _raise(AssertionError("the pipeline must not be built")))
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert _lines(result.output) == [line]
    assert "Traceback" not in result.output


def test_constrain_help_shows_the_citation_marker() -> None:
    result = runner.invoke(app, ["ask", "--help"], env={"COLUMNS": "250", "NO_COLOR": "1"})
    assert "citations [n]" in result.output
