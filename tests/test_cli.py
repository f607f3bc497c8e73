"""End to end through the CLI (typer's runner) with the real packaged embedder and tiny generator,
plus the pipeline's own logic with a scripted generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import DOCS
from typer.testing import CliRunner

from rag.cli import app
from rag.pipeline import Pipeline, PipelineConfig, verify_statements
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import RuleJudge, ScriptedGenerator

runner = CliRunner()


@pytest.fixture(scope="module")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    target = root / "idx"
    result = runner.invoke(app, ["index", str(docs), "--name", str(target)])
    assert result.exit_code == 0, result.output
    assert "3 passages" in result.output
    assert (target / "manifest.json").is_file()
    return target


def test_ask_json_cites_only_given_passages(built_index: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ask",
            "How much caffeine is in a cup of coffee?",
            "--index",
            str(built_index),
            "-g",
            "smollm2-135m",
            "--k",
            "2",
            "--json",
            # the grammar with the generator's own citations (the defaults re-cite post hoc)
            "--prompt",
            "default",
            "--constrain",
            "--cite",
            "model",
            "--show-unsupported",
            "--no-quote-fallback",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["answer"].strip()
    assert len(out["passages"]) == 2
    given = {p["passage"]["id"] for p in out["passages"]}
    # the citation grammar is on by default: every statement cites, and only passages that were given
    assert out["statements"] and all(st["citations"] for st in out["statements"])
    for st in out["statements"]:
        assert all(1 <= n <= 2 for n in st["citations"])
    assert {c["passage_id"] for c in out["citations"]} <= given
    assert out["citations"]
    assert out["dropped_citations"] == []
    assert set(out["timings"]) >= {"retrieval", "time_to_first_token", "generation", "total"}


@pytest.mark.parametrize(
    ("extra", "verdicts"),
    [
        (
            ["--verify", "--judge", "llm:smollm2-135m", "--cite", "model", "--show-unsupported"],
            {"supported", "unsupported", "uncited"},
        ),
        (
            ["--cite", "posthoc", "--show-unsupported", "--attribution-judge", "llm:smollm2-135m"],
            {"supported", "unsupported"},
        ),
        # the defaults: post-hoc citations, unsupported statements hidden, quotes if nothing is left
        (["--attribution-judge", "llm:smollm2-135m"], {"supported"}),
    ],
)
def test_ask_json_carries_per_statement_verdicts(built_index: Path, extra: list[str], verdicts: set[str]) -> None:
    args = ["ask", "Where was coffee first drunk?", "--index", str(built_index), "-g", "smollm2-135m", "--k", "2"]
    result = runner.invoke(app, [*args, "--json", *extra])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["statements"]
    assert all(st["verdict"] in verdicts for st in out["statements"])
    for st in out["statements"]:  # a supported statement cites; post-hoc leaves unsupported ones uncited
        assert st["verdict"] != "supported" or st["citations"]
        if "posthoc" in extra and st["verdict"] == "unsupported":
            assert st["citations"] == []
    assert out["samples"] == 1 and out["chosen_sample"] == 0
    assert all(h["verdict"] == "unsupported" for h in out["hidden_statements"])


def test_ask_text_shows_sources(built_index: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ask",
            "How much caffeine is in tea?",
            "--index",
            str(built_index),
            "-g",
            "smollm2-135m",
            "--k",
            "2",
            "--attribution-judge",
            "llm:smollm2-135m",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.output
    assert "first token" in result.output


def test_index_refuses_to_overwrite_silently(built_index: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Some text.", encoding="utf-8")
    result = runner.invoke(app, ["index", str(tmp_path / "a.txt"), "--name", str(built_index)])
    assert result.exit_code == 1
    assert "exists" in result.output and "--overwrite" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "anything", "--index", "/nonexistent/idx", "-g", "smollm2-135m"], "/nonexistent/idx"),
        (["ask", "anything", "--weights", "1"], "--weights"),
        (["ask", "anything", "--mode", "magic", "-g", "smollm2-135m"], "magic"),
        (["index", "/nonexistent/docs", "--name", "/tmp/rag-test-never"], "/nonexistent/docs"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output


# the generator's own citations, as before the citing levers (the defaults now re-cite post hoc)
MODEL_CITES = {"prompt": "default", "cite": "model", "hide_unsupported": False, "quote_fallback": False}

PASSAGES = [
    Passage("t", "Tea was first drunk in China.", "Tea"),
    Passage("c", "Coffee was first drunk in Yemen.", "Coffee"),
]


def test_pipeline_parses_citations_and_drops_out_of_range(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator("Tea was first drunk in China [1]. Coffee was first drunk in Yemen [2][7].")
    answer = Pipeline(gen, None, PipelineConfig(k=2, constrain_citations=True, **MODEL_CITES)).ask(
        "Where?", passages=PASSAGES
    )
    assert [st.citations for st in answer.statements] == [(1,), (2,)]
    assert answer.dropped_citations == (7,)
    assert [c.passage.id for c in answer.citations] == ["t", "c"]
    # the citation grammar was applied for the two given passages
    assert gen.configs[0].grammar is not None and '"2"' in gen.configs[0].grammar


def test_pipeline_grammar_only_where_it_applies(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator("An answer [1].")
    Pipeline(gen, None, PipelineConfig(k=2, constrain_citations=False, prompt="quote")).ask("Q?", passages=PASSAGES)
    Pipeline(gen, None, PipelineConfig(k=2, prompt="alce")).ask("Q?", passages=PASSAGES)
    Pipeline(gen, None, PipelineConfig(k=2)).closed_book("Q?")
    assert [c.grammar for c in gen.configs] == [None, None, None]


def test_verify_marks_supported_unsupported_uncited(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]
) -> None:
    gen = scripted_generator("Tea was first drunk in China [1]. Coffee was first drunk in China [2]. Both are drinks.")
    pipe = Pipeline(gen, None, PipelineConfig(k=2, constrain_citations=False, **MODEL_CITES), judge=rule_judge("words"))
    answer = pipe.ask("Where?", passages=PASSAGES, verify=True)
    assert [st.verdict for st in answer.statements] == ["supported", "unsupported", "uncited"]
    assert "verification" in answer.timings
    # the same function on its own
    again = verify_statements(answer.statements, PASSAGES, rule_judge("words"))
    assert [st.verdict for st in again] == ["supported", "unsupported", "uncited"]


def test_verify_without_judge_is_a_clear_error(scripted_generator: type[ScriptedGenerator]) -> None:
    pipe = Pipeline(scripted_generator("x [1]."), None, PipelineConfig(k=2))
    with pytest.raises(ValueError, match="judge"):
        pipe.ask("Q?", passages=PASSAGES, verify=True)


def test_strict_rendering_shows_only_supported_statements(capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli.render import render_answer as _render_answer
    from rag.types import Answer, ScoredPassage, Statement

    answer = Answer(
        question="Where?",
        text="Tea is from China [1]. Coffee is from China [2].",
        statements=(
            Statement("Tea is from China.", "Tea is from China [1].", (1,), (), "supported"),
            Statement("Coffee is from China.", "Coffee is from China [2].", (2,), (), "unsupported"),
        ),
        passages=tuple(ScoredPassage(p, 0.0, i + 1) for i, p in enumerate(PASSAGES)),
        generator="scripted",
    )
    _render_answer(answer, strict=True, streamed=False)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Tea is from China [1]."
    assert "Coffee is from China [2]" not in out
    assert "hidden: ✗ unsupported" in out
