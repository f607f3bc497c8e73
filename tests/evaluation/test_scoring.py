"""rag.evaluation.scoring: a finished run scored, scored again with another judge (the stored scores
reused), systems compared on the questions all of them answered, the unanswered counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import Killed, run_config

from rag.evaluation import runner
from rag.evaluation.scoring import _system_rows, score_run

if TYPE_CHECKING:
    from conftest import Factory, RuleJudge


def test_a_judge_loaded_by_name_is_closed_after_scoring_and_a_given_one_is_not(
    tmp_path: Path, factory: Factory, rule_judge: type[RuleJudge], monkeypatch: pytest.MonkeyPatch
) -> None:
    # llama.cpp's finaliser prints a traceback when it first runs at interpreter exit
    run_dir = tmp_path / "run"
    runner.run_benchmark(run_config(limit=2), run_dir, pipeline_factory=factory(), progress=False)
    closed: list[str] = []

    class Closing(rule_judge):  # type: ignore[misc,valid-type]
        def close(self) -> None:
            closed.append(self.name)

    monkeypatch.setattr("rag.evaluation.scoring.load_judge", lambda name: Closing("keywords", name="named"))
    score_run(run_dir, "llm:named", progress=False)
    assert closed == ["named"]
    score_run(run_dir, Closing("keywords", name="given"), progress=False)
    assert closed == ["named"]  # the caller's judge stays the caller's to close


def test_score_run_and_rescore_with_another_judge(
    tmp_path: Path, factory: Factory, rule_judge: type[RuleJudge]
) -> None:
    run_dir = tmp_path / "run"
    runner.run_benchmark(run_config(limit=3), run_dir, pipeline_factory=factory(), progress=False)
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


def test_systems_are_compared_on_common_questions(tmp_path: Path, factory: Factory) -> None:
    run_dir = tmp_path / "run"
    runner.run_benchmark(run_config(limit=2), run_dir, pipeline_factory=factory(), progress=False)
    with pytest.raises(Killed):  # the grown run stops after one more answer of the first system
        runner.run_benchmark(
            run_config(limit=3),
            run_dir,
            resume=True,
            pipeline_factory=factory([0], die_after=1),
            progress=False,
        )
    systems = score_run(run_dir, "none", progress=False)["systems"]
    assert systems["rag/fake-a"]["n_answered"] == 3
    assert {s["n_questions"] for s in systems.values()} == {2}


def test_scoring_counts_the_unanswered() -> None:
    scores = {
        "id": "",
        "str_em": 0.0,
        "str_hit": 0.0,
        "rougeLsum": 0.0,
        "length": 0,
        "citation_recall": None,
        "citation_precision": None,
        "faithfulness": None,
    }
    answers = {
        ("rag/fake", "q1"): {"output": "An answer [1].", "answered": True},
        ("rag/fake", "q2"): {"output": "", "answered": False},
        ("rag/fake", "q3"): {"output": "", "answered": False},
        ("rag/fake", "q4"): {"output": "An answer from an older run [1]."},  # no field: answered
        ("rag/other", "q1"): {"output": "An answer [1].", "answered": True},
        ("rag/other", "q2"): {"output": "Another [2].", "answered": True},
        ("rag/other", "q3"): {"output": "", "answered": False},
        ("rag/other", "q4"): {"output": "Yes [1].", "answered": True},
    }
    all_scores = {key: {"system": key[0], **scores, "id": key[1]} for key in answers}
    doc = {"systems": ["rag/fake", "rag/other"], "models": {"fake": {"params": 1}, "other": {"params": 2}}}
    systems, common = _system_rows(doc, answers, all_scores)
    assert common
    assert (systems["rag/fake"]["unanswered"], systems["rag/fake"]["empty_answers"]) == (2, 2)
    assert (systems["rag/other"]["unanswered"], systems["rag/other"]["empty_answers"]) == (1, 1)
