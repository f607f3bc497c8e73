"""ALCE retrieval recall on hand-made examples and a mini benchmark with known answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rag.evaluation.retrieval import (
    em_recall,
    evaluate_retrieval,
    main,
    normalize_answer,
    sweep_fusion,
)
from rag.retrieval import RetrievalConfig
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import FakeIndex


def test_normalize_answer() -> None:
    assert normalize_answer("The  Beatles!") == "beatles"
    assert normalize_answer("A Tale of Two Cities.") == "tale of two cities"
    assert normalize_answer("U.S. Open, an event") == "us open event"
    assert normalize_answer("Theatre") == "theatre"  # 'the' only as a word
    assert normalize_answer("") == ""


def test_em_recall_by_hand() -> None:
    passages = ["Ali Daei scored 109 goals.", "The record was set in 2006 by him."]
    pairs = [
        {"short_answers": ["Daei", "Ali Daei"]},  # hit
        {"short_answers": ["Cristiano Ronaldo"]},  # miss
        {"short_answers": ["two thousand six", "2006"]},  # hit via second alias
    ]
    assert em_recall(passages, pairs) == pytest.approx(2 / 3)
    assert em_recall(passages[:1], pairs) == pytest.approx(1 / 3)
    assert em_recall([], pairs) == 0.0
    # normalisation on both sides: punctuation and articles do not matter
    assert em_recall(["the U.S.A. team"], [{"short_answers": ["USA"]}]) == 1.0
    # the concatenation counts: an answer split across two passages does match, as in ALCE
    assert em_recall(["new", "york"], [{"short_answers": ["New York"]}]) == 1.0


def test_em_recall_needs_pairs() -> None:
    with pytest.raises(ValueError, match="qa_pair"):
        em_recall(["x"], [])


# ------------------------------------------------------------- mini benchmark on a fake index

PASSAGES = [
    Passage(id="p0", text="Paris is the capital of France."),
    Passage(id="p1", text="Berlin is the capital of Germany."),
    Passage(id="p2", text="Rome is the capital of Italy."),
    Passage(id="p3", text="Madrid is in Spain."),
]
# query -> rows, best first (BM25 scores 10, 9, 8; dense 1.0, 0.9, 0.8)
BM25_TABLE = {"q1": [1, 0, 2], "q2": [3, 2, 1]}
DENSE_TABLE = {"q1": [0, 2, 3], "q2": [2, 0, 1]}


@pytest.fixture
def index(fake_index: type[FakeIndex]) -> FakeIndex:
    return fake_index(PASSAGES, BM25_TABLE, DENSE_TABLE)


QUESTIONS = [
    {"id": "a", "question": "q1", "qa_pairs": [{"short_answers": ["Paris"]}, {"short_answers": ["Rome"]}]},
    {"id": "b", "question": "q2", "qa_pairs": [{"short_answers": ["Rome"]}]},
]


def test_recall_at_k_mini_benchmark(index: FakeIndex) -> None:
    configs = {
        "bm25": RetrievalConfig(mode="bm25"),
        "dense": RetrievalConfig(mode="dense"),
        "hybrid": RetrievalConfig(fusion="rrf", rrf_k=60, weights=(1.0, 1.0)),
    }
    report = evaluate_retrieval(index, QUESTIONS, configs, ks=(1, 2, 3))  # type: ignore[arg-type]
    by = {r.name: r.recall for r in report.results}
    # bm25  q1: [Berlin, Paris, Rome] -> 0, 1/2, 1 ; q2: [Madrid, Rome, Berlin] -> 0, 1, 1
    assert by["bm25"] == pytest.approx({1: 0.0, 2: 75.0, 3: 100.0})
    # dense q1: [Paris, Rome, Madrid] -> 1/2, 1, 1 ; q2: [Rome, ...] -> 1, 1, 1
    assert by["dense"] == pytest.approx({1: 75.0, 2: 100.0, 3: 100.0})
    # hybrid q1: 0 = 1/62+1/61, 1 = 1/61, 2 = 1/63+1/62, 3 = 1/63 -> [Paris, Rome, Berlin]
    #        q2: 2 = 1/62+1/61, 3 = 1/61, 0 = 1/62, 1 = 1/63 + 1/63 -> [Rome, ...]
    assert by["hybrid"] == pytest.approx({1: 75.0, 2: 100.0, 3: 100.0})
    assert report.n_questions == 2
    assert all(r.latency_ms is not None and r.latency_ms >= 0 for r in report.results)
    sub = report.subset({"a"})
    assert sub.n_questions == 1
    assert {r.name: r.recall for r in sub.results}["bm25"] == pytest.approx({1: 0.0, 2: 50.0, 3: 100.0})
    md = report.to_markdown("mini")
    assert "| bm25 | 0.0 | 75.0 | 100.0 |" in md
    assert json.loads(json.dumps(report.to_dict()))["results"][0]["recall"]["2"] == 75.0


def test_sweep_matches_evaluate(index: FakeIndex) -> None:
    configs = {
        "bm25": RetrievalConfig(mode="bm25"),
        "w": RetrievalConfig(fusion="weighted", weights=(1.0, 3.0)),
        "rrf_d1": RetrievalConfig(bm25_depth=1, dense_depth=1),
    }
    a = evaluate_retrieval(index, QUESTIONS, configs, ks=(1, 3))  # type: ignore[arg-type]
    b = sweep_fusion(index, QUESTIONS, configs, ks=(1, 3))  # type: ignore[arg-type]
    for ra, rb in zip(a.results, b.results, strict=True):
        assert ra.per_question == rb.per_question


def test_evaluate_bad_input(index: FakeIndex) -> None:
    with pytest.raises(ValueError, match="no questions"):
        evaluate_retrieval(index, [], {"b": RetrievalConfig()})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ks"):
        evaluate_retrieval(index, QUESTIONS, {"b": RetrievalConfig()}, ks=(0,))  # type: ignore[arg-type]


def test_main_missing_data_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAG_SHARED_DATA", raising=False)  # --data is given: the benchmark folder is not needed
    rc = main(["--index", str(tmp_path / "none"), "--data", str(tmp_path / "nope.json"), "--out", str(tmp_path)])
    assert rc == 1
    assert "nope.json" in capsys.readouterr().err


def _squad_reference(s: str) -> str:
    """The SQuAD / ALCE normalisation written out step by step (the reference)."""
    import re
    import string

    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def test_normalize_matches_reference_and_cache_matches_em_recall() -> None:
    from rag.evaluation.retrieval import _NormCache, recall_at_ks

    texts = [
        "The (1889) Eiffel-Tower, Paris... a",
        "...",
        "An apple; THE end",
        "the",
        "Café «Zürich» — U.S.A. an",
        "New",
        "York, the city",
    ]
    for t in texts:
        assert normalize_answer(t) == _squad_reference(t)
    passages = [Passage(id=f"x{i}", text=t) for i, t in enumerate(texts)]
    pairs = [
        {"short_answers": ["Paris a"]},
        {"short_answers": ["apple end"]},
        {"short_answers": ["new york"]},
        {"short_answers": ["zurich", "Zürich usa"]},
        {"short_answers": ["a eiffel tower"]},
    ]
    ks = (1, 2, 3, 5, 7)
    assert _NormCache().recall(passages, pairs, ks) == pytest.approx(recall_at_ks(texts, pairs, ks))
    # hits: "paris", "apple end", "new york" (across passages); misses: "eiffel tower" (the hyphen
    # is dropped: "eiffeltower"), "zurich" (no accent folding; « » are not ASCII punctuation)
    assert recall_at_ks(texts, pairs, ks)[-1] == pytest.approx(3 / 5)
