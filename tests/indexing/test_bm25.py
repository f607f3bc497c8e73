"""BM25Index against rank-bm25 (the reference), search behaviour, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag.indexing.bm25 import BM25Config, BM25Index

CORPUS = [
    "The cat sat on the mat while the dog slept.",
    "Dogs and cats are common household pets.",
    "The Eiffel Tower is a wrought-iron lattice tower in Paris.",
    "Paris is the capital and most populous city of France.",
    "A lattice is a partially ordered set in mathematics.",
    "The tower of London is a historic castle on the Thames.",
    "Cats purr when they are content, and sometimes when they are stressed.",
    "The river Seine flows through Paris before reaching the English Channel.",
    "Mathematics includes algebra, geometry and analysis of sets.",
    "Running dogs chase running cats across the garden.",
]
QUERIES = ["cat dog", "Paris tower", "lattice mathematics sets", "running running dogs", "Seine river Paris"]


class LuceneBM25(BM25Okapi):
    """rank-bm25 with Lucene's IDF: ln(1 + (N - n + 0.5) / (n + 0.5))."""

    def _calc_idf(self, nd):  # noqa: D401 - rank-bm25 hook
        for word, freq in nd.items():
            self.idf[word] = math.log(1 + (self.corpus_size - freq + 0.5) / (freq + 0.5))


@pytest.mark.parametrize("k1,b", [(1.5, 0.75), (1.2, 0.4), (0.9, 1.0)])
def test_lucene_scores_equal_rank_bm25(k1: float, b: float) -> None:
    index = BM25Index.build(CORPUS, BM25Config(k1=k1, b=b, method="lucene"))
    ref = LuceneBM25(index.tokenize(CORPUS), k1=k1, b=b)
    for query in QUERIES:
        ours = index.scores(query)
        # bm25s drops Okapi's constant (k1 + 1) numerator factor; nothing else may differ.
        expected = ref.get_scores(index.tokenize([query])[0]) / (k1 + 1)
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
        assert ours.max() > 0


def test_robertson_scores_equal_bm25okapi_where_idf_positive() -> None:
    k1, b = 1.5, 0.75
    index = BM25Index.build(CORPUS, BM25Config(k1=k1, b=b, method="robertson"))
    tokens = index.tokenize(CORPUS)
    ref = BM25Okapi(tokens, k1=k1, b=b)
    n_docs = len(CORPUS)
    for query in QUERIES:
        q = index.tokenize([query])[0]
        # the two IDFs agree only for terms in fewer than half of the documents
        assert all(sum(t in d for d in tokens) < n_docs / 2 for t in q), q
        np.testing.assert_allclose(index.scores(query), ref.get_scores(q) / (k1 + 1), rtol=1e-5, atol=1e-6)


def test_hand_computed_score() -> None:
    # 3 docs; "zebra" in one doc of length 2 (after stopwords), avgdl = 2
    index = BM25Index.build(["zebra stripes", "lion mane", "tiger claws"], BM25Config(stemmer=None))
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    tfc = 1 / (1 + 1.5 * (1 - 0.75 + 0.75 * 2 / 2))
    hits = index.search("zebra", 5)
    assert [h.row for h in hits] == [0]
    assert hits[0].score == pytest.approx(idf * tfc, rel=1e-6)


def test_search_ranks_drops_zero_and_clamps_k() -> None:
    index = BM25Index.build(CORPUS)
    hits = index.search("Paris", 100)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert {h.row for h in hits} == {2, 3, 7}  # only rows that contain the term
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    assert index.search("the and of", 5) == []  # stopwords only
    assert index.search("xylophone", 5) == []
    assert len(index.search("cat dog paris tower", 3)) == 3
    assert len(index) == len(CORPUS)


def test_ties_broken_by_row() -> None:
    index = BM25Index.build(["apple pie", "banana", "apple pie", "apple pie"])
    rows = [h.row for h in index.search("apple", 2)]
    assert rows == [0, 2]


def test_search_many_equals_search() -> None:
    index = BM25Index.build(CORPUS)
    assert index.search_many(QUERIES, 4) == [index.search(q, 4) for q in QUERIES]


@pytest.mark.parametrize("mmap", [False, True])
def test_save_load_round_trip(tmp_path, mmap: bool) -> None:
    config = BM25Config(k1=1.2, b=0.6)
    index = BM25Index.build(CORPUS, config)
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25", mmap=mmap)
    assert loaded.config == config
    assert len(loaded) == len(index)
    for q in QUERIES:
        assert loaded.search(q, 5) == index.search(q, 5)


def test_unknown_words_are_those_whose_stem_no_text_holds(tmp_path) -> None:
    index = BM25Index.build(CORPUS)
    # "runs" stems as "run", like "Running"; "mathematical" as "mathemat", like "mathematics";
    # "the" is a stopword; "x" makes no token
    words = ["Zebras", "runs", "mathematical", "the", "x", "Louvre", "cats", "louvre"]
    assert index.unknown_words(words) == ["Zebras", "Louvre", "louvre"]
    index.save(tmp_path / "bm25")
    assert BM25Index.load(tmp_path / "bm25").unknown_words(words) == ["Zebras", "Louvre", "louvre"]
    assert index.unknown_words([]) == []


def test_bad_config_and_input(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown BM25 method"):
        BM25Config(method="okapi++")
    with pytest.raises(ValueError, match="no texts"):
        BM25Index.build([])
    with pytest.raises(ValueError, match="positive"):
        BM25Index.build(CORPUS).search("cat", 0)
    with pytest.raises(FileNotFoundError, match="rag_bm25.json"):
        BM25Index.load(tmp_path)
