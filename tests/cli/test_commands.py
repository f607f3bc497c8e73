"""rag.cli.commands end to end through typer's runner (and a new process where a command prints
warnings) with the real packaged embedder and tiny generator: `rag index` and `rag ask`, their
answers as JSON and text, and bad input that must fail before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DOCS, one_error_line
from typer.testing import CliRunner

from rag.cli import app
from rag.pipeline import MAX_QUESTION_CHARS

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
            # the generator's own citations (the defaults re-cite post hoc)
            "--set",
            "prompt=default",
            "--set",
            "cite=model",
            "--set",
            "hide_unsupported=false",
            "--set",
            "quote_fallback=false",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["answer"].strip()
    assert len(out["passages"]) == 2
    given = {p["passage"]["id"] for p in out["passages"]}
    # only passages that were given are cited (the model's markers are not forced: it may cite none)
    assert out["statements"]
    for st in out["statements"]:
        assert all(1 <= n <= 2 for n in st["citations"])
    assert {c["passage_id"] for c in out["citations"]} <= given
    assert out["dropped_citations"] == []
    assert set(out["timings"]) >= {"retrieval", "time_to_first_token", "generation", "total"}


@pytest.mark.parametrize(
    ("extra", "verdicts"),
    [
        (
            ["--verify", "--judge", "llm:smollm2-135m", "--set", "cite=model", "--set", "hide_unsupported=false"],
            {"supported", "unsupported", "uncited"},
        ),
        (
            ["--set", "cite=posthoc", "--set", "hide_unsupported=false", "--set", "attribution_judge=llm:smollm2-135m"],
            {"supported", "unsupported"},
        ),
        # the defaults: post-hoc citations, unsupported statements hidden, quotes if nothing is left
        (["--set", "attribution_judge=llm:smollm2-135m"], {"supported"}),
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
            "--set",
            "attribution_judge=llm:smollm2-135m",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.output
    assert "first token" in result.output
    assert "No indexed document mentions" not in result.output


def test_ask_names_the_words_no_indexed_document_holds(built_index: Path) -> None:
    args = ["ask", "How much caffeine is in matcha?", "--index", str(built_index), "-g", "smollm2-135m", "--k", "2"]
    judge = ["--set", "attribution_judge=llm:smollm2-135m"]
    result = runner.invoke(app, args + judge)
    assert result.exit_code == 0, result.output
    assert "(No indexed document mentions: matcha.)" in result.output.splitlines()
    as_json = runner.invoke(app, [*args, *judge, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["missing_words"] == ["matcha"]


def test_index_refuses_to_overwrite_silently(built_index: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Some text.", encoding="utf-8")
    result = runner.invoke(app, ["index", str(tmp_path / "a.txt"), "--name", str(built_index)])
    assert result.exit_code == 1
    assert "exists" in result.output and "--overwrite" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "anything", "--index", "/nonexistent/idx", "-g", "smollm2-135m"], "/nonexistent/idx"),
        (["ask", "anything", "--set", "retrieval.weights=1"], "weights must be a pair"),
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


@pytest.mark.parametrize(
    "args,message",
    [
        (["ask", ""], "error: the question is empty"),
        (["ask", "   "], "error: the question is empty"),
        (["ask", "x" * 20_000], f"error: the question is 20000 characters long; at most {MAX_QUESTION_CHARS}"),
        (["ask", "Who?", "--k", "1000"], "error: k must be between 1 and 100 passages, got 1000"),
        (["ask", "Who?", "--k", "0"], "error: k must be between 1 and 100 passages, got 0"),
    ],
)
def test_bad_questions_fail_before_any_model_loads(args: list[str], message: str, no_models: None) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert one_error_line(result.output).startswith(message)
