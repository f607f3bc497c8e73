"""Benchmark runs: resume after a kill gives the same outputs.jsonl; scoring; the CLI's errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from rag.evaluation import runner
from rag.evaluation.data import read_asqa_file
from rag.evaluation.rundir import OUTPUTS, RunConfig, read_outputs, write_alce_outputs
from rag.evaluation.scoring import score_run
from rag.generation import GenerationConfig
from rag.pipeline import Pipeline, PipelineConfig

if TYPE_CHECKING:
    from conftest import RuleJudge, ScriptedGenerator

# Five hand-written questions in ALCE's format (qa_pairs, annotations, four docs each): the
# runner's tests never depend on the shared data.
TINY = Path(__file__).parent / "data" / "asqa_tiny.json"


class Killed(Exception):
    """Stands for the process being killed mid-run."""


_PIPELINE_FIELDS = ("k", "prompt", "cite", "samples", "hide_unsupported", "quote_fallback", "attribution_judge")


def _config(**kw: object) -> RunConfig:
    base: dict[str, object] = dict(
        data=str(TINY),
        docs_from_file=True,
        index=None,
        limit=5,
        generators=("fake-a",),
        closed_book=True,
        baseline="fake-b",
        judge="none",
    )
    pipe: dict[str, object] = dict(k=3, cite="model", hide_unsupported=False, quote_fallback=False)
    for key, value in kw.items():
        (pipe if key in _PIPELINE_FIELDS else base)[key] = value
    return RunConfig(**base, pipeline=PipelineConfig(**pipe))  # type: ignore[arg-type]


MODEL_CITES = {"prompt": "default", "cite": "model", "hide_unsupported": False, "quote_fallback": False}


def _says_the_question(name: str) -> Callable[[list[dict[str, str]], GenerationConfig], str]:
    """A deterministic answer: repeats the question and cites passage [1] when there are passages."""

    def answer(messages: list[dict[str, str]], config: GenerationConfig) -> str:
        user = messages[-1]["content"]
        has_passages = "[1]" in user
        question = user.split("Question:")[-1].strip().splitlines()[0]
        return f"{name} says {question}" + (" [1]." if has_passages else ".")

    return answer


Factory = Callable[..., Callable[[str], Pipeline]]


@pytest.fixture
def factory(scripted_generator: type[ScriptedGenerator]) -> Factory:
    """``factory(counter, die_after)``: a pipeline factory whose generators say the question back;
    with ``die_after``, the generators (sharing ``counter``) are killed after that many answers."""

    def make_factory(counter: list[int] | None = None, die_after: int | None = None) -> Callable[[str], Pipeline]:
        def make(name: str) -> Pipeline:
            gen = scripted_generator(
                _says_the_question(name),
                name=name,
                pieces_are_tokens=True,
                counter=counter,
                die_after=die_after,
                die_with=Killed,
            )
            return Pipeline(gen, None, PipelineConfig(k=3, **MODEL_CITES))

        return make

    return make_factory


def _lines_without_timings(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        assert set(rec["timings"]) >= {"retrieval", "generation", "total"}
        rec.pop("timings")
        out.append(rec)
    return out


def test_systems_of_the_2x2() -> None:
    cfg = RunConfig(generators=("qwen2.5-0.5b", "qwen2.5-1.5b"), closed_book=True)
    assert [s.name for s in cfg.systems()] == [
        "rag/qwen2.5-0.5b",
        "closed-book/qwen2.5-0.5b",
        "rag/qwen2.5-1.5b",
        "closed-book/qwen2.5-1.5b",
    ]
    cfg = RunConfig(generators=("qwen2.5-0.5b",))
    assert [s.name for s in cfg.systems()] == ["rag/qwen2.5-0.5b", "closed-book/qwen2.5-1.5b"]
    with pytest.raises(ValueError, match="benchmark"):
        RunConfig(benchmark="eli5")


def test_killed_and_resumed_run_equals_uninterrupted(tmp_path: Path, factory: Factory) -> None:
    cfg = _config()
    full = tmp_path / "full"
    res = runner.run_benchmark(cfg, full, pipeline_factory=factory(), progress=False)
    assert (res.written, res.skipped) == (
        15,
        0,
    )  # 5 questions x (rag/fake-a, closed-book/fake-a, closed-book/fake-b)
    expected = _lines_without_timings(full / OUTPUTS)
    assert [(r["system"], r["id"]) for r in expected[:6]] == [
        ("rag/fake-a", it.id) for it in read_asqa_file(TINY)[:5]
    ] + [("closed-book/fake-a", read_asqa_file(TINY)[0].id)]
    assert expected[0]["output"].endswith("[1].") and len(expected[0]["passages"]) == 3
    assert expected[5]["passages"] == [] and expected[5]["output"].startswith("fake-a says")

    part = tmp_path / "part"
    with pytest.raises(Killed):
        runner.run_benchmark(cfg, part, pipeline_factory=factory([0], die_after=7), progress=False)
    out = part / OUTPUTS
    assert len(out.read_text(encoding="utf-8").splitlines()) == 7
    with out.open("a", encoding="utf-8") as f:  # the kill tore the 8th line while it was written
        f.write('{"id": "-123", "system": "closed-bo')
    with pytest.raises(ValueError, match="--resume"):
        runner.run_benchmark(cfg, part, pipeline_factory=factory(), progress=False)
    counter = [0]
    res = runner.run_benchmark(cfg, part, resume=True, pipeline_factory=factory(counter), progress=False)
    assert (res.written, res.skipped) == (8, 7)
    assert counter[0] == 8  # nothing answered twice
    assert _lines_without_timings(out) == expected
    # resuming a finished run does nothing
    res = runner.run_benchmark(cfg, part, resume=True, pipeline_factory=factory(), progress=False)
    assert (res.written, res.skipped) == (0, 15)
    # a setting that changes the answers cannot be resumed into the same run
    with pytest.raises(ValueError, match="k=3"):
        runner.run_benchmark(_config(k=2), part, resume=True, pipeline_factory=factory(), progress=False)


def test_read_outputs_rejects_a_corrupt_middle_line(tmp_path: Path) -> None:
    p = tmp_path / "outputs.jsonl"
    p.write_text('{"a": 1}\nnot json\n{"b": 2}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_outputs(p)


def test_a_judge_loaded_by_name_is_closed_after_scoring_and_a_given_one_is_not(
    tmp_path: Path, factory: Factory, rule_judge: type[RuleJudge], monkeypatch: pytest.MonkeyPatch
) -> None:
    # llama.cpp's finaliser prints a traceback when it first runs at interpreter exit
    run_dir = tmp_path / "run"
    runner.run_benchmark(_config(limit=2), run_dir, pipeline_factory=factory(), progress=False)
    closed: list[str] = []

    class Closing(rule_judge):  # type: ignore[misc,valid-type]
        def close(self) -> None:
            closed.append(self.name)

    monkeypatch.setattr("rag.evaluation.scoring.load_judge", lambda name: Closing("keywords", name="named"))
    score_run(run_dir, "llm:named", progress=False)
    assert closed == ["named"]
    score_run(run_dir, Closing("keywords", name="given"), progress=False)
    assert closed == ["named"]  # the caller's judge stays the caller's to close


def test_docs_from_file_needs_docs(tmp_path: Path, factory: Factory) -> None:
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps([{"id": "a", "question": "q?", "qa_pairs": []}]), encoding="utf-8")
    with pytest.raises(ValueError, match="docs-from-file"):
        runner.run_benchmark(_config(data=str(dev)), tmp_path / "r", pipeline_factory=factory(), progress=False)


def test_score_run_and_rescore_with_another_judge(
    tmp_path: Path, factory: Factory, rule_judge: type[RuleJudge]
) -> None:
    run_dir = tmp_path / "run"
    runner.run_benchmark(_config(limit=3), run_dir, pipeline_factory=factory(), progress=False)
    judge = rule_judge("keywords", name="keyword")
    summary = score_run(run_dir, judge, progress=False)
    assert len(judge.asked) > 0
    assert summary["judge"] == {"name": "keyword", "official": False}
    systems = summary["systems"]
    assert list(systems) == ["rag/fake-a", "closed-book/fake-a", "closed-book/fake-b"]
    assert systems["rag/fake-a"]["n_questions"] == 3
    assert "citation_rec" in systems["rag/fake-a"]["metrics"]
    assert "citation_rec" not in systems["closed-book/fake-a"]["metrics"]
    # hand-checked: the fake answers ("fake-b says <question>") name no short answer of the first
    # three questions
    assert systems["closed-book/fake-b"]["metrics"]["str_em"] == 0.0
    lines = (run_dir / "scores-keyword.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 9
    for name in ("summary.json", "summary.md", "chart.png", "config.json"):
        assert (run_dir / name).is_file()
    # scoring again reuses the stored scores (no judge call); another judge gets its own file
    judge2 = rule_judge("keywords", name="keyword")
    score_run(run_dir, judge2, progress=False)
    assert judge2.asked == []  # no judge call
    summary = score_run(run_dir, "none", progress=False)
    assert summary["judge"]["name"] == "none"
    assert (run_dir / "scores-none.jsonl").is_file()
    assert "citation_rec" not in summary["systems"]["rag/fake-a"]["metrics"]
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert config["run"]["pipeline"]["k"] == 3 and config["systems"][0] == "rag/fake-a"
    assert config["run"]["pipeline"]["retrieval"]["rrf_k"] == 5  # every setting is recorded
    assert config["corpus"]["kind"] == "docs-from-file" and "python" in config["versions"]


def test_alce_outputs(tmp_path: Path, factory: Factory) -> None:
    run_dir = tmp_path / "run"
    runner.run_benchmark(
        _config(limit=2, closed_book=False, baseline=None),
        run_dir,
        pipeline_factory=factory(),
        progress=False,
    )
    (path,) = write_alce_outputs(run_dir)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    items = read_asqa_file(TINY)
    assert [d["sample_id"] for d in data] == [items[0].id, items[1].id]
    assert data[0]["output"].endswith("[1].")
    # the docs given are the item's first k, with all of ALCE's fields
    assert data[0]["docs"] == json.loads(TINY.read_text(encoding="utf-8"))[0]["docs"][:3]


# ---------------------------------------------------------------- CLI errors

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
        (["--data", str(TINY), "--limit", "0", "--no-baseline", "--run", "/tmp/never"], "--limit"),
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
    monkeypatch.setattr(runner, "_default_factory", lambda config, device="auto": factory())
    run_dir = tmp_path / "r1"
    args = [
        "--data",
        str(TINY),
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
            str(TINY),
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
            "--attribution-judge",
            "llm:smollm2-135m",
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


def test_resume_with_the_default_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: Factory) -> None:
    monkeypatch.setenv("RAG_ASQA", str(TINY))
    cfg = _config(data=None, limit=2)
    runner.run_benchmark(cfg, tmp_path / "r", pipeline_factory=factory(), progress=False)
    res = runner.run_benchmark(
        _config(data=None, limit=3), tmp_path / "r", resume=True, pipeline_factory=factory(), progress=False
    )
    assert (res.written, res.skipped) == (3, 6)  # a larger --limit extends the run


def test_systems_are_compared_on_common_questions(tmp_path: Path, factory: Factory) -> None:
    run_dir = tmp_path / "run"
    runner.run_benchmark(_config(limit=2), run_dir, pipeline_factory=factory(), progress=False)
    with pytest.raises(Killed):  # the grown run stops after one more answer of the first system
        runner.run_benchmark(
            _config(limit=3),
            run_dir,
            resume=True,
            pipeline_factory=factory([0], die_after=1),
            progress=False,
        )
    systems = score_run(run_dir, "none", progress=False)["systems"]
    assert systems["rag/fake-a"]["n_answered"] == 3
    assert {s["n_questions"] for s in systems.values()} == {2}


def test_self_graded_when_the_attribution_judge_scores() -> None:
    def run(**pipe: object) -> RunConfig:
        return RunConfig(pipeline=PipelineConfig(**pipe))  # type: ignore[arg-type]

    assert not run(cite="posthoc").self_graded()  # 0.5B attributes, 1.5B scores
    assert run(cite="posthoc", attribution_judge="llm:qwen2.5-1.5b").self_graded()
    assert run(samples=4, attribution_judge="llm").self_graded("llm:qwen2.5-1.5b")
    no_levers = {"cite": "model", "samples": 1, "hide_unsupported": False}
    assert not run(attribution_judge="llm", **no_levers).self_graded()  # nothing asks the attribution judge
    assert run(attribution_judge="llm").self_graded()  # the defaults ask it
