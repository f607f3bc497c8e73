"""rag.cli.eval: `rag eval` (and its score and report commands) through typer's runner: one-line
errors, malformed data refused before any model loads, a run with fake pipelines end to end, and
one with the packaged 135M model as generator, baseline and judge."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import ASQA_TINY, one_error_line
from typer.testing import CliRunner

from rag.cli import app
from rag.evaluation import runner
from rag.evaluation.rundir import OUTPUTS, read_outputs

if TYPE_CHECKING:
    from conftest import Factory


cli = CliRunner()


def _invoke(args: list[str]):  # noqa: ANN202
    from rag.cli.eval import eval_app

    return cli.invoke(eval_app, args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--benchmark", "eli5"], "unknown benchmark"),
        (["--data", "/nonexistent/asqa.json"], "not found"),
        (["--subset", "pooled301"], "unknown subset"),
        (["score", "/nonexistent/run"], "not a run directory"),
        (["report", "/nonexistent/run"], "not found"),
        (["--data", str(ASQA_TINY), "--limit", "0", "--no-baseline", "--run", "/tmp/never"], "--limit"),
    ],
)
def test_cli_errors_are_one_red_line(args: list[str], message: str) -> None:
    result = _invoke(args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert message in result.output
    assert result.output.strip().startswith("error:")
    assert len(result.output.strip().splitlines()) == 1


def test_cli_runs_scores_and_reports_with_a_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: Factory
) -> None:
    fake = functools.partial(runner.run_benchmark, pipeline_factory=factory())
    monkeypatch.setattr("rag.cli.eval.run_benchmark", fake)
    run_dir = tmp_path / "r1"
    args = [
        "--data",
        str(ASQA_TINY),
        "--docs-from-file",
        "--limit",
        "2",
        "--k",
        "3",
        "--generators",
        "fake-a",
        "--baseline",
        "fake-b",
        "--judge",
        "none",
        "--run",
        str(run_dir),
        "--alce-output",
    ]
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    assert "| rag/fake-a |" in result.output and "| closed-book/fake-b |" in result.output
    assert (run_dir / "alce-rag_fake-a.json").is_file()
    again = _invoke(args)
    assert again.exit_code == 1 and "--resume" in again.output
    resumed = _invoke([*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    scored = _invoke(["score", str(run_dir), "--judge", "none"])
    assert scored.exit_code == 0 and "Judge: `none`" in scored.output
    report = _invoke(["report", str(run_dir), str(run_dir), "--out", str(tmp_path / "cmp")])
    assert report.exit_code == 0, report.output
    assert (tmp_path / "cmp" / "chart.png").is_file()


def test_end_to_end_tiny_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rag eval --limit 3` with the packaged 135M model as generator, baseline and judge."""
    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))  # the judge's verdict cache
    from rag.models import get_spec, is_installed

    spec = get_spec("smollm2-135m")
    if spec is None or not is_installed(spec):
        pytest.skip("smollm2-135m is not installed")
    run_dir = tmp_path / "tiny"
    result = _invoke(
        [
            "--data",
            str(ASQA_TINY),
            "--docs-from-file",
            "--limit",
            "3",
            "--k",
            "3",
            "--generators",
            "smollm2-135m",
            "--baseline",
            "smollm2-135m",
            "--closed-book",
            "--judge",
            "llm:smollm2-135m",
            "--set",
            "attribution_judge=llm:smollm2-135m",
            "--run",
            str(run_dir),
        ]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["systems"]) == ["rag/smollm2-135m", "closed-book/smollm2-135m"]
    rag = summary["systems"]["rag/smollm2-135m"]
    assert rag["n_questions"] == 3 and rag["params"] == "135M" and rag["file_size"] > 10_000_000
    assert {"str_em", "str_hit", "rougeLsum", "length"} <= set(rag["metrics"])
    assert 0.0 <= rag["metrics"]["rougeLsum"] <= 100.0
    assert summary["judge"]["official"] is False and "smollm2" in summary["judge"]["name"]
    records = read_outputs(run_dir / OUTPUTS)
    assert len(records) == 6 and all(r["generator"] == "smollm2-135m" for r in records)
    assert (run_dir / "chart.png").is_file()


@pytest.mark.parametrize(
    "data,message",
    [
        ([{"id": "q", "question": "Who?", "qa_pairs": 5}], "'qa_pairs' must be a list of JSON objects, got 5"),
        ([{"id": "q", "question": "Who?", "qa_pairs": ["str"]}], "'qa_pairs' must be a list of JSON objects"),
        (
            [{"id": "q", "question": "Who?", "qa_pairs": [{"short_answers": "Paris"}]}],
            "'short_answers' of a qa_pair must be a list of strings",
        ),
        ([], "holds no questions"),
    ],
)
@pytest.mark.parametrize("extra", [[], ["--retrieval-only"]])
def test_malformed_eval_data_is_one_line_and_leaves_no_run(
    tmp_path: Path, data: list[object], message: str, extra: list[str], no_models: None
) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    results = tmp_path / "results"
    result = cli.invoke(app, ["eval", "--data", str(path), "--results-dir", str(results), "--run", "r", *extra])
    assert result.exit_code == 1
    assert message in one_error_line(result.output)
    assert not results.exists() and not (tmp_path / "eval").exists()


def test_retrieval_only_with_its_own_data_needs_no_benchmark_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--retrieval-only`` given the questions and the subset as files reads nothing else: the
    error is the missing index, not the unset benchmark folder."""
    monkeypatch.delenv("RAG_SHARED_DATA", raising=False)
    ids = tmp_path / "ids.txt"
    ids.write_text("q1\n", encoding="utf-8")
    args = ["eval", "--data", str(ASQA_TINY), "--retrieval-only", "--subset", str(ids)]
    result = cli.invoke(app, [*args, "--index", str(tmp_path / "none"), "--run", str(tmp_path / "r")])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert "RAG_SHARED_DATA" not in line and str(tmp_path / "none") in line
