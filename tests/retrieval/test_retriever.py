"""Retriever: modes, fusion wiring and evidence ranks; one test on a real tiny index."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

from rag.indexing.store import build_index
from rag.retrieval import RetrievalConfig, Retriever
from rag.retrieval.fusion import rrf
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import FakeIndex

# the values below were worked out for plain RRF, k = 60, equal weights: fixed here so that
# changing RetrievalConfig's measured defaults does not change these tests
RRF60 = {"fusion": "rrf", "rrf_k": 60, "weights": (1.0, 1.0)}

PASSAGES = [Passage(id=f"p{i}", text=f"text {i}") for i in range(6)]
# every query gets these rows, best first: BM25 scores 20, 18, 16, ...; dense 0.9, 0.8, 0.7, ...
BM25_ROWS = [1, 0, 2, 5]
DENSE_ROWS = [0, 3, 2, 4]


@pytest.fixture
def idx(fake_index: type[FakeIndex]) -> FakeIndex:
    """A fake index over PASSAGES that ranks the same rows for every query."""
    return fake_index(PASSAGES, BM25_ROWS, DENSE_ROWS, bm25_scores=(20.0, 2.0), dense_scores=(0.9, 0.1))


def ids(results) -> list[str]:
    return [r.passage.id for r in results]


def test_hybrid_rrf_order_and_ranks(idx: FakeIndex) -> None:
    out = Retriever(idx, RetrievalConfig(**RRF60)).retrieve("q", 5)  # type: ignore[arg-type]
    # 0: 1/62 + 1/61 ; 1: 1/61 ; 2: 1/63 + 1/63 ; 3: 1/62 ; 5: 1/64 ; 4: 1/64
    # 2 (0.031746) > 1 (0.016393) > 3 (0.016129) > 4 (0.015625, best rank 4) = 5 (best rank 4) -> row
    assert ids(out) == ["p0", "p2", "p1", "p3", "p4"]
    assert [r.rank for r in out] == [1, 2, 3, 4, 5]
    assert out[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert (out[0].bm25_rank, out[0].dense_rank) == (2, 1)
    assert (out[2].bm25_rank, out[2].dense_rank) == (1, None)  # found by BM25 only
    assert (out[3].bm25_rank, out[3].dense_rank) == (None, 2)  # found by dense only


def test_single_modes(idx: FakeIndex) -> None:
    b = Retriever(idx, RetrievalConfig(mode="bm25")).retrieve("q", 3)  # type: ignore[arg-type]
    assert ids(b) == ["p1", "p0", "p2"]
    assert [r.dense_rank for r in b] == [None, None, None]
    assert [r.score for r in b] == [20.0, 18.0, 16.0]
    assert idx.embedder.batches == []  # no dense work in bm25 mode
    d = Retriever(idx, RetrievalConfig(mode="dense")).retrieve("q", 2)  # type: ignore[arg-type]
    assert ids(d) == ["p0", "p3"] and [r.dense_rank for r in d] == [1, 2]
    assert idx.bm25.calls == [6]  # only the bm25-mode call; depth 50 capped at the 6 passages


def test_weights_really_applied(idx: FakeIndex) -> None:
    only_bm25 = Retriever(idx, RetrievalConfig(weights=(1.0, 0.0))).retrieve("q", 4)  # type: ignore[arg-type]
    assert ids(only_bm25) == ["p1", "p0", "p2", "p5"]
    equal = Retriever(idx, RetrievalConfig(**RRF60)).retrieve("q", 4)  # type: ignore[arg-type]
    assert ids(equal) == ["p0", "p2", "p1", "p3"]
    heavy_dense = Retriever(idx, RetrievalConfig(rrf_k=60, weights=(1.0, 5.0))).retrieve("q", 4)  # type: ignore[arg-type]
    # p3 = 5/62 and p4 = 5/64 now beat p1 = 1/61
    assert ids(heavy_dense) == ["p0", "p2", "p3", "p4"]
    w = Retriever(idx, RetrievalConfig(fusion="weighted", norm="minmax", weights=(3.0, 1.0))).retrieve("q", 2)  # type: ignore[arg-type]
    # minmax bm25: 1->1, 0->2/3, 2->1/3, 5->0 ; dense: 0->1, 3->2/3, 2->1/3, 4->0
    # 0: .75*2/3 + .25*1 = .75 ; 1: .75 ; tie, best rank 1 both -> row 0 first
    assert ids(w) == ["p0", "p1"]
    assert [r.score for r in w] == pytest.approx([0.75, 0.75])


def test_depths_and_batching(idx: FakeIndex) -> None:
    r = Retriever(idx, RetrievalConfig(bm25_depth=2, dense_depth=3))  # type: ignore[arg-type]
    out = r.retrieve_many(["a", "b", "c"], 1)
    assert len(out) == 3 and all(len(x) == 1 for x in out)
    assert idx.bm25.calls == [2] and idx.dense.calls == [3]
    assert idx.embedder.batches == [3]  # one batch for all queries
    r.retrieve("a", 5)  # k above the depth raises the depth to k (capped at the corpus size)
    assert idx.bm25.calls[-1] == 5 and idx.dense.calls[-1] == 5
    r.retrieve("a", 100)
    assert idx.bm25.calls[-1] == len(PASSAGES)


def test_prefix_consistency(idx: FakeIndex) -> None:
    r = Retriever(idx, RetrievalConfig(**RRF60, bm25_depth=4, dense_depth=4))  # type: ignore[arg-type]
    assert ids(r.retrieve("q", 3)) == ids(r.retrieve("q", 5))[:3]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "sparse"},
        {"fusion": "max"},
        {"norm": "l2"},
        {"rrf_k": -1},
        {"weights": (1.0,)},
        {"weights": (0.0, 0.0)},
        {"weights": (-1.0, 1.0)},
        {"bm25_depth": 0},
    ],
)
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        RetrievalConfig(**kwargs)


def test_bad_queries(idx: FakeIndex) -> None:
    r = Retriever(idx, RetrievalConfig())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        r.retrieve("  ", 3)
    with pytest.raises(ValueError, match="k must be"):
        r.retrieve("q", 0)
    with pytest.raises(ValueError, match="list of queries"):
        r.retrieve_many("q", 3)  # type: ignore[arg-type]
    assert r.retrieve_many([], 3) == []


def test_config_is_hashable_and_serialisable() -> None:
    cfg = RetrievalConfig(weights=[2, 1])  # type: ignore[arg-type]
    assert cfg.weights == (2.0, 1.0)
    hash(cfg)
    assert json.loads(json.dumps(cfg.to_dict()))["weights"] == [2.0, 1.0]


# ---------------------------------------------------------------- real tiny index

DOCS = [
    {
        "id": "d0",
        "title": "Eiffel Tower",
        "text": "The Eiffel Tower is a wrought-iron lattice tower in Paris, France, completed in 1889.",
    },
    {
        "id": "d1",
        "title": "Great Wall",
        "text": "The Great Wall of China is a series of fortifications built across northern China.",
    },
    {
        "id": "d2",
        "title": "Photosynthesis",
        "text": "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar and oxygen.",
    },
    {
        "id": "d3",
        "title": "Jupiter",
        "text": "Jupiter is the largest planet in the Solar System, a gas giant with a great red spot.",
    },
    {
        "id": "d4",
        "title": "Mount Everest",
        "text": "Mount Everest, in the Himalayas, is Earth's highest mountain above sea level.",
    },
    {
        "id": "d5",
        "title": "Louvre",
        "text": "The Louvre in Paris is the world's most-visited art museum and home of the Mona Lisa.",
    },
]


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory: pytest.TempPathFactory):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = tmp_path_factory.mktemp("tiny")
    src = tmp / "docs.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    return build_index([src], tmp / "index", device="cpu", show_progress=False)


def test_retriever_on_real_index(tiny_index) -> None:
    index = tiny_index
    query = "Which tower in Paris was finished in 1889?"
    cfg = RetrievalConfig(**RRF60, bm25_depth=4, dense_depth=4)
    out = Retriever(index, cfg).retrieve(query, 4)
    # the reference: each retriever on its own, fused by hand with rrf
    b = index.bm25.search(query, 4)
    d = index.dense.search(index.embedder.encode_queries([query]), 4)[0]
    expected = rrf([b, d], k=60, limit=4)
    assert [index.passages[h.row].id for h in expected] == ids(out)
    assert [r.score for r in out] == pytest.approx([h.score for h in expected])
    assert out[0].passage.id == "d0"
    bm25_rank = {h.row: h.rank for h in b}
    dense_rank = {h.row: h.rank for h in d}
    rows = {p.id: i for i, p in enumerate(index.passages)}
    for r in out:
        assert r.bm25_rank == bm25_rank.get(rows[r.passage.id])
        assert r.dense_rank == dense_rank.get(rows[r.passage.id])
    assert [r.rank for r in out] == list(range(1, len(out) + 1))
    assert all(x.score >= y.score for x, y in zip(out, out[1:], strict=False))


def test_retrieve_many_equals_retrieve(tiny_index) -> None:
    r = Retriever(tiny_index, RetrievalConfig(mode="dense"))
    qs = ["largest planet", "art museum with the Mona Lisa"]
    many = r.retrieve_many(qs, 2)
    assert [ids(x) for x in many] == [ids(r.retrieve(q, 2)) for q in qs]
    assert many[0][0].passage.id == "d3" and many[1][0].passage.id == "d5"
