"""Tests for rag.evaluation.judge_check: metric arithmetic, the pairs file, candidates, the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import TEST_DATA

from rag.evaluation import judge_check as jc
from rag.evaluation.judge_check import LabelledPair, candidate_pairs, judge_check, load_pairs, select_split
from rag.judges import Judge

if TYPE_CHECKING:
    from conftest import FixedJudge, RuleJudge

PAIRS_FILE = TEST_DATA / "judge_pairs.jsonl"


def _pairs(labels: list[bool], kinds: list[str] | None = None) -> list[LabelledPair]:
    kinds = kinds or ["k"] * len(labels)
    return [
        LabelledPair(f"p{i}", f"h{i}", lab, kind, f"q{i}/x")
        for i, (lab, kind) in enumerate(zip(labels, kinds, strict=True))
    ]


def test_judge_check_arithmetic_by_hand(fixed_judge: type[FixedJudge]) -> None:
    # labels  T T T F F F ; verdicts T T F T F F -> TP 2, FN 1, FP 1, TN 2
    pairs = _pairs([True, True, True, False, False, False], ["pos", "pos", "pos", "neg", "neg", "neg"])
    r = judge_check(fixed_judge([True, True, False, True, False, False]), pairs)
    assert r.judge == "fixed" and r.n == 6
    assert r.confusion == {"tp": 2, "fp": 1, "tn": 2, "fn": 1}
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(2 / 3)
    assert r.f1 == pytest.approx(2 / 3)
    assert r.accuracy_by_kind == {"neg": pytest.approx(2 / 3), "pos": pytest.approx(2 / 3)}
    assert r.seconds_per_pair >= 0.0


def test_judge_check_unbalanced_by_hand(fixed_judge: type[FixedJudge]) -> None:
    # labels T T T T F ; verdicts T F F F F -> TP 1, FN 3, TN 1: P = 1, R = 1/4, F1 = 2*(1/4)/(5/4) = 0.4
    r = judge_check(fixed_judge([True, False, False, False, False]), _pairs([True, True, True, True, False]))
    assert r.confusion == {"tp": 1, "fp": 0, "tn": 1, "fn": 3}
    assert (r.accuracy, r.precision, r.recall, r.f1) == pytest.approx((0.4, 1.0, 0.25, 0.4))


def test_judge_check_never_yes_has_zero_precision(fixed_judge: type[FixedJudge]) -> None:
    r = judge_check(fixed_judge([False, False]), _pairs([True, False]))
    assert (r.precision, r.recall, r.f1, r.accuracy) == (0.0, 0.0, 0.0, 0.5)


def test_judge_check_rejects_empty_and_wrong_length(fixed_judge: type[FixedJudge]) -> None:
    with pytest.raises(ValueError):
        judge_check(fixed_judge([]), [])

    class Short(Judge):
        name = "short"

        def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
            return [True]

    with pytest.raises(ValueError, match="1 verdicts for 2 pairs"):
        judge_check(Short(), _pairs([True, False]))


def test_load_pairs_reads_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    rec = {"premise": "Title: T\nx", "hypothesis": "y", "label": True, "kind": "positive", "source": "q/p"}
    dict_src = {**rec, "label": False, "source": {"question_id": "q2", "passage_id": "p2"}}
    path.write_text(json.dumps(rec) + "\n\n" + json.dumps(dict_src) + "\n", encoding="utf-8")
    assert load_pairs(path) == [
        LabelledPair("Title: T\nx", "y", True, "positive", "q/p"),
        LabelledPair("Title: T\nx", "y", False, "positive", "q2/p2"),
    ]
    path.write_text(json.dumps({k: v for k, v in rec.items() if k != "kind"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":1: missing field"):
        load_pairs(path)
    path.write_text(json.dumps({**rec, "label": "yes"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="true or false"):
        load_pairs(path)
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_pairs(path)
    with pytest.raises(FileNotFoundError):
        load_pairs(tmp_path / "missing.jsonl")


def test_shipped_pairs_file_is_well_formed() -> None:
    records = [json.loads(line) for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = load_pairs(PAIRS_FILE)
    assert len(pairs) == len(records) >= 100
    assert all(r["label_by"] == "read" for r in records)
    n_true = sum(p.label for p in pairs)
    assert 0.3 * len(pairs) <= n_true <= 0.7 * len(pairs)  # balanced-ish
    assert all(p.premise.startswith("Title: ") and "\n" in p.premise for p in pairs)
    assert all(p.hypothesis.strip() and "/" in p.source for p in pairs)
    assert len({(p.premise, p.hypothesis) for p in pairs}) == len(pairs)
    kinds = {p.kind for p in pairs}
    assert {"positive", "negative-same-page", "negative-other-question"} <= kinds
    # Negatives that turned out to state the sentence are labelled true, and some "positives" false.
    assert any(p.label for p in pairs if p.kind == "negative-same-page")
    assert any(not p.label for p in pairs if p.kind == "positive")


def test_splits_partition_by_question() -> None:
    pairs = load_pairs(PAIRS_FILE)
    dev, test = select_split(pairs, "dev"), select_split(pairs, "test")
    assert dev and test and len(dev) + len(test) == len(pairs)
    qid = lambda p: p.source.split("/", 1)[0]  # noqa: E731
    assert not {qid(p) for p in dev} & {qid(p) for p in test}
    assert select_split(pairs, "all") == pairs
    with pytest.raises(ValueError, match="unknown split"):
        select_split(pairs, "train")


def _tiny_asqa(tmp_path: Path) -> tuple[list[dict], Path]:
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": "c1", "title": "Alpha", "text": "Alpha is a river in Norway.", "source": "s"},
        {"id": "c2", "title": "Alpha", "text": "Alpha has many fish and long bridges.", "source": "s"},
        {"id": "c3", "title": "Beta", "text": "Beta is a mountain in Chile.", "source": "s"},
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    asqa = [
        {
            "id": "q1",
            "annotations": [
                {
                    "long_answer": "Alpha is a river in Norway. It is cold.",
                    "knowledge": [{"content": "Alpha is a river in Norway.", "wikipage": "Alpha"}],
                }
            ],
        },
        {
            "id": "q2",
            "annotations": [
                {
                    "long_answer": "Beta is a mountain.",
                    "knowledge": [{"content": "Beta is a mountain in Chile.", "wikipage": "Beta"}],
                }
            ],
        },
    ]
    return asqa, corpus


def test_candidate_pairs(tmp_path: Path) -> None:
    asqa, corpus = _tiny_asqa(tmp_path)
    cands = candidate_pairs(asqa, corpus, n=2, seed=0)
    q1 = [c for c in cands if c["source"]["question_id"] == "q1"]
    by_kind = {c["kind"]: c for c in q1}
    assert by_kind["positive"]["premise"] == "Title: Alpha\nAlpha is a river in Norway."
    assert by_kind["positive"]["hypothesis"] == "Alpha is a river in Norway."
    assert by_kind["positive"]["source"]["passage_id"] == "c1"
    assert by_kind["negative-same-page"]["source"]["passage_id"] == "c2"
    assert all(c["label"] is None for c in cands)
    assert candidate_pairs(asqa, corpus, n=2, seed=0) == cands  # seeded
    with pytest.raises(FileNotFoundError):
        candidate_pairs(asqa, tmp_path / "none.jsonl", n=1)
    with pytest.raises(ValueError):
        candidate_pairs(asqa, corpus, n=0)


def test_sentence_split_keeps_initials() -> None:
    assert jc._sentences("It was carried out by John B. Watson in St. Louis. Then it ended.") == [
        "It was carried out by John B. Watson in St. Louis.",
        "Then it ended.",
    ]


def test_main_scores_and_writes_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rule_judge: type[RuleJudge]
) -> None:
    path = tmp_path / "p.jsonl"
    recs = [
        {"premise": "Title: A\nx", "hypothesis": "x", "label": True, "kind": "positive", "source": "q1/a"},
        {"premise": "Title: B\ny", "hypothesis": "x", "label": False, "kind": "negative", "source": "q2/b"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")

    seen: dict[str, object] = {}

    def fake_load(name: str, *, cache: bool = True) -> Judge:
        seen.update(name=name, cache=cache)
        return rule_judge("substring", name="llm:fake")

    monkeypatch.setattr(jc, "load_judge", fake_load)
    out = tmp_path / "out"
    assert jc.main(["--judge", "llm:fake", "--pairs", str(path), "--out", str(out), "--no-cache"]) == 0
    assert seen == {"name": "llm:fake", "cache": False}
    data = json.loads((out / "llm_fake.json").read_text(encoding="utf-8"))
    assert data["accuracy"] == 1.0 and data["n"] == 2 and data["judge"] == "llm:fake"
    assert "--judge llm:fake" in data["command"]
    assert "| 1.000 |" in (out / "llm_fake.md").read_text(encoding="utf-8")


def test_main_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert jc.main(["--pairs", str(tmp_path / "missing.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: pairs file") and err.count("\n") == 1


def test_main_writes_candidates(tmp_path: Path) -> None:
    asqa, corpus = _tiny_asqa(tmp_path)
    asqa_path = tmp_path / "asqa.json"
    asqa_path.write_text(json.dumps(asqa), encoding="utf-8")
    out = tmp_path / "cands.jsonl"
    args = ["--candidates", "2", "--asqa", str(asqa_path), "--corpus", str(corpus), "--output", str(out)]
    assert jc.main(args) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines and all(r["label"] is None for r in lines)
