"""rag.cli.options: the options `rag ask`, `rag eval` and `rag serve` share (-k, --mode and any
pipeline setting by name with --set), declared once, and the PipelineConfig they describe."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
import typer
from conftest import lines, raising
from typer.testing import CliRunner

from rag.cli import app
from rag.cli.options import PIPELINE_OPTIONS, pipeline_config
from rag.errors import RagError
from rag.evidence import EvidenceConfig
from rag.generation import GenerationConfig
from rag.pipeline import Pipeline, PipelineConfig
from rag.retrieval import RetrievalConfig
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import FakeIndex, ScriptedGenerator

runner = CliRunner()


def _spellings() -> list[list[str]]:
    """Every flag of each shared option, e.g. ["--k", "-k"]."""
    out = []
    for o in PIPELINE_OPTIONS:
        out.append([flag for decl in o.option.param_decls for flag in decl.split("/")])
    return out


def test_every_shared_option_has_a_long_flag() -> None:
    spellings = _spellings()
    assert len(spellings) == len(PIPELINE_OPTIONS) == 3
    assert all(any(f.startswith("--") for f in flags) for flags in spellings)
    flat = [f for flags in spellings for f in flags]
    assert len(flat) == len(set(flat))  # no flag declared twice
    assert sorted(flat) == ["--k", "--mode", "--set", "-k"]


# Flags that are gone: every setting but -k and --mode is set by name (--set key=value).
GONE = ["--prompt", "--fusion", "--rrf-k", "--weights", "--norm", "--bm25-depth", "--dense-depth", "--max-tokens"]
GONE += ["--constrain", "--cite", "--hide-unsupported", "--show-unsupported", "--quote-fallback", "--quote-words"]
GONE += ["--evidence-scorer", "--reader", "--samples", "--attribution-judge"]


@pytest.mark.parametrize("flag", GONE)
def test_a_flag_that_is_gone_is_refused(flag: str, no_models: None) -> None:
    result = runner.invoke(app, ["ask", "Who?", flag, "1"])
    assert result.exit_code == 2  # click's usage error
    assert "No such option" in result.output


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
        settings=[
            "retrieval.fusion=weighted",
            "retrieval.rrf_k=60",
            "retrieval.weights=2,0.5",
            "retrieval.norm=zscore",
            "retrieval.bm25_depth=7",
            "retrieval.dense_depth=9",
            "prompt=default",
            "generation.max_tokens=64",
            "cite=model",
            "hide_unsupported=false",
            "quote_fallback=false",
            "evidence.quote_words=40",
            "evidence.reader=false",
            "attribution_judge=llm:qwen2.5-1.5b",
        ],
    )
    assert config == PipelineConfig(
        k=3,
        retrieval=RetrievalConfig(
            mode="dense", fusion="weighted", rrf_k=60, weights=(2.0, 0.5), norm="zscore", bm25_depth=7, dense_depth=9
        ),
        generation=GenerationConfig(max_tokens=64),
        prompt="default",
        cite="model",
        hide_unsupported=False,
        quote_fallback=False,
        evidence=EvidenceConfig(quote_words=40, reader=False),
        attribution_judge="llm:qwen2.5-1.5b",
    )


def test_option_defaults_are_the_library_defaults() -> None:
    assert pipeline_config(**{o.name: o.option.default for o in PIPELINE_OPTIONS}) == PipelineConfig()


@pytest.mark.parametrize(("text", "expected"), [("1,3", (1.0, 3.0)), ("0.5, 2", (0.5, 2.0)), ("0,1e1", (0.0, 10.0))])
def test_weights_are_set_as_a_pair(text: str, expected: tuple[float, float]) -> None:
    config = pipeline_config(k=5, mode="hybrid", settings=[f"retrieval.weights={text}"])
    assert config.retrieval.weights == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1", "weights must be a pair (bm25, dense), got (1.0,)"),
        ("1,2,3", "weights must be a pair (bm25, dense), got (1.0, 2.0, 3.0)"),
        ("", "weights must be a pair (bm25, dense), got ()"),
        ("a,b", "--set retrieval.weights='a,b': expected a list"),
        ("1;2", "--set retrieval.weights='1;2': expected a list"),
    ],
)
def test_weights_that_are_not_a_pair_are_refused(text: str, message: str) -> None:
    with pytest.raises(RagError, match=re.escape(message)):
        pipeline_config(k=5, mode="hybrid", settings=[f"retrieval.weights={text}"])


def test_k_and_mode_apply_after_the_settings() -> None:
    config = pipeline_config(k=8, mode="bm25", settings=["retrieval.mode=dense", "k=3", "retrieval.rrf_k=10"])
    assert (config.k, config.retrieval.mode, config.retrieval.rrf_k) == (8, "bm25", 10)
    # given at their default values they still win ("-k 5 --set k=8" is k=5) ...
    config = pipeline_config(k=5, mode="hybrid", settings=["retrieval.mode=dense", "k=8"])
    assert (config.k, config.retrieval.mode) == (5, "hybrid")
    # ... and not given (None) they leave what --set said
    config = pipeline_config(k=None, mode=None, settings=["retrieval.mode=dense", "k=3"])
    assert (config.k, config.retrieval.mode) == (3, "dense")


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
    flags = ["--k", "2", "--set", "retrieval.rrf_k=60", "--set", "retrieval.weights=1,1"]
    flags += ["--set", "generation.max_tokens=50", "--set", "prompt=default", "--set", "cite=model"]
    flags += ["--set", "hide_unsupported=false", "--set", "quote_fallback=false"]
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
        (["ask", "q", "--set", "retrieval.weights=a,b"], "error: --set retrieval.weights='a,b': expected a list"),
        (
            ["eval", "--set", "retrieval.weights=1,2,3"],
            "error: weights must be a pair (bm25, dense), got (1.0, 2.0, 3.0)",
        ),
        (["ask", "q", "--set", "retrieval.rrf_k=-1"], "error: rrf_k must be >= 0, got -1"),
        (["eval", "--set", "cite=magic"], "error: unknown citation mode 'magic'; choose one of model, posthoc"),
        (["ask", "q", "--set", "generation.max_tokens=0"], "error: max_tokens must be at least 1, got 0"),
        (["serve", "--set", "k=0"], "error: k must be between 1 and 100 passages, got 0"),
        (["ask", "q", "--set", "evidence.reader=maybe"], "error: --set evidence.reader='maybe': expected a bool"),
        (["eval", "--set", "k"], "error: --set takes key=value, got 'k'"),
    ],
)
def test_bad_shared_option_is_one_line(monkeypatch: pytest.MonkeyPatch, args: list[str], line: str) -> None:
    monkeypatch.setattr(Pipeline, "from_names", raising(AssertionError("the pipeline must not be built")))
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert lines(result.output) == [line]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("key", ["evidence.scorer", "samples", "colour"])
def test_an_unknown_setting_is_one_line_naming_the_settings(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setattr(Pipeline, "from_names", raising(AssertionError("the pipeline must not be built")))
    result = runner.invoke(app, ["ask", "q", "--set", f"{key}=1"])
    assert result.exit_code == 1, result.output
    (line,) = lines(result.output)
    assert line.startswith(f"error: unknown setting {key!r}; settings: k, retrieval.mode, ")
    assert "evidence.reader" in line and "Traceback" not in result.output
