"""Fusion on hand-made rankings with hand-worked values."""

from __future__ import annotations

import math

import pytest

from rag.retrieval.fusion import normalize_scores, rrf, weighted_fusion
from rag.types import Hit


def ranking(rows: list[int], scores: list[float] | None = None) -> list[Hit]:
    scores = scores if scores is not None else [float(len(rows) - i) for i in range(len(rows))]
    return [Hit(row=r, score=s, rank=i) for i, (r, s) in enumerate(zip(rows, scores, strict=True), 1)]


# ---------------------------------------------------------------- RRF


def test_rrf_values_by_hand() -> None:
    # bm25: 10, 20, 30   dense: 20, 40, 10
    out = rrf([ranking([10, 20, 30]), ranking([20, 40, 10])], k=60)
    got = {h.row: h.score for h in out}
    assert got[20] == pytest.approx(1 / 62 + 1 / 61)
    assert got[10] == pytest.approx(1 / 61 + 1 / 63)
    assert got[30] == pytest.approx(1 / 63)
    assert got[40] == pytest.approx(1 / 62)
    assert [h.row for h in out] == [20, 10, 40, 30]
    assert [h.rank for h in out] == [1, 2, 3, 4]


def test_rrf_k_changes_values() -> None:
    out = rrf([ranking([1, 2])], k=0)
    assert [h.score for h in out] == pytest.approx([1.0, 0.5])


def test_rrf_uses_hit_rank_not_position() -> None:
    hits = [Hit(row=5, score=0.0, rank=3), Hit(row=6, score=0.0, rank=1)]
    out = rrf([hits], k=10)
    assert [h.row for h in out] == [6, 5]
    assert out[1].score == pytest.approx(1 / 13)


def test_rrf_weights_change_order() -> None:
    a = ranking([1, 2, 3])
    b = ranking([3, 2, 1])
    # equal weights: 1 and 3 tie (1/61 + 1/63); tie broken by best rank (both 1) then row -> 1 first
    assert [h.row for h in rrf([a, b])][:1] == [1]
    heavy_b = rrf([a, b], weights=[1.0, 3.0])
    assert [h.row for h in heavy_b] == [3, 2, 1]
    assert heavy_b[0].score == pytest.approx(1 / 63 + 3 / 61)
    heavy_a = rrf([a, b], weights=[3.0, 1.0])
    assert [h.row for h in heavy_a] == [1, 2, 3]


def test_rrf_zero_weight_ignores_ranking() -> None:
    a = ranking([1, 2])
    b = ranking([9, 2, 1])
    out = rrf([a, b], weights=[1.0, 0.0])
    assert [h.row for h in out] == [1, 2]  # 9 only found by the ignored ranking


def test_rrf_ties_deterministic() -> None:
    # 7 and 3 both only at rank 1 of one ranking: same score, same best rank -> smaller row first
    out = rrf([ranking([7]), ranking([3])])
    assert [h.row for h in out] == [3, 7]
    assert out[0].score == out[1].score == pytest.approx(1 / 61)
    # same fused score, different best rank: row 4 = 1/61 + 1/64 ... build an exact tie
    # a: [4, x, x, 8]  b: [8, x, x, 4] -> both 1/61 + 1/64, best rank 1 both -> row 4 first
    out2 = rrf([ranking([4, 100, 101, 8]), ranking([8, 102, 103, 4])])
    assert [h.row for h in out2][:2] == [4, 8]
    # reversed input order of rankings gives the same order
    out3 = rrf([ranking([8, 102, 103, 4]), ranking([4, 100, 101, 8])])
    assert [h.row for h in out3] == [h.row for h in out2]


def test_rrf_tie_broken_by_best_rank() -> None:
    # row 1: rank 2 in a, absent in b: 1/(0+2) = 0.5 ; row 2: rank 4 in a and rank 4 in b: 0.25+0.25
    out = rrf([ranking([9, 1, 8, 2]), ranking([7, 6, 5, 2])], k=0)
    by_row = {h.row: h for h in out}
    assert by_row[1].score == pytest.approx(0.5) and by_row[2].score == pytest.approx(0.5)
    assert by_row[1].rank < by_row[2].rank  # best single rank 2 beats 4


def test_rrf_document_found_by_one_retriever() -> None:
    out = rrf([ranking([1, 2]), ranking([2, 3])], k=60)
    by_row = {h.row: h.score for h in out}
    assert by_row[3] == pytest.approx(1 / 62)
    assert by_row[1] == pytest.approx(1 / 61)
    assert set(by_row) == {1, 2, 3}


def test_rrf_limit_and_empty() -> None:
    assert rrf([]) == []
    assert rrf([[], []]) == []
    out = rrf([ranking([1, 2, 3])], limit=2)
    assert [h.row for h in out] == [1, 2]
    assert rrf([ranking([1, 2, 3])], limit=0) == []


def test_rrf_duplicates_keep_best_rank() -> None:
    hits = [Hit(1, 0.0, 1), Hit(1, 0.0, 2)]
    out = rrf([hits], k=60)
    assert len(out) == 1 and out[0].score == pytest.approx(1 / 61)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"k": -1},
        {"weights": [1.0]},
        {"weights": [1.0, -1.0]},
        {"weights": [0.0, 0.0]},
        {"weights": [1.0, math.nan]},
        {"limit": -1},
    ],
)
def test_rrf_bad_input(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        rrf([ranking([1]), ranking([2])], **kwargs)


def test_rrf_rejects_zero_rank() -> None:
    with pytest.raises(ValueError, match="1-based"):
        rrf([[Hit(1, 1.0, 0)]])


# ---------------------------------------------------------------- normalisation


def test_minmax_by_hand() -> None:
    assert normalize_scores([10.0, 6.0, 2.0], "minmax") == pytest.approx([1.0, 0.5, 0.0])
    assert normalize_scores([3.0, 3.0], "minmax") == [1.0, 1.0]
    assert normalize_scores([], "minmax") == []


def test_zscore_by_hand() -> None:
    # mean 4, population std sqrt(((6-4)^2 + 0 + (2-4)^2)/3) = sqrt(8/3)
    s = math.sqrt(8 / 3)
    assert normalize_scores([6.0, 4.0, 2.0], "zscore") == pytest.approx([2 / s, 0.0, -2 / s])
    assert normalize_scores([5.0, 5.0, 5.0], "zscore") == [0.0, 0.0, 0.0]


def test_normalize_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown norm"):
        normalize_scores([1.0], "softmax")
    with pytest.raises(ValueError, match="finite"):
        normalize_scores([1.0, math.inf])


# ---------------------------------------------------------------- weighted fusion


def test_weighted_minmax_by_hand() -> None:
    bm25 = ranking([1, 2, 3], [10.0, 6.0, 2.0])  # -> 1.0, 0.5, 0.0
    dense = ranking([3, 4], [0.9, 0.5])  # -> 1.0, 0.0 ; missing rows get 0.0
    out = weighted_fusion([bm25, dense], weights=[1.0, 1.0], norm="minmax")
    got = {h.row: h.score for h in out}
    assert got == pytest.approx({1: 0.5, 2: 0.25, 3: 0.5, 4: 0.0})
    # rows 1 and 3 tie at 0.5 with best rank 1 each -> row 1 first
    assert [h.row for h in out] == [1, 3, 2, 4]


def test_weighted_weights_really_applied() -> None:
    bm25 = ranking([1, 2, 3], [10.0, 6.0, 2.0])
    dense = ranking([3, 4], [0.9, 0.5])
    out = weighted_fusion([bm25, dense], weights=[1.0, 3.0])  # normalised to 0.25, 0.75
    got = {h.row: h.score for h in out}
    assert got == pytest.approx({1: 0.25, 2: 0.125, 3: 0.75, 4: 0.0})
    assert [h.row for h in out] == [3, 1, 2, 4]
    # scaling all weights leaves scores unchanged (they are normalised to sum 1)
    again = weighted_fusion([bm25, dense], weights=[10.0, 30.0])
    assert [h.score for h in again] == pytest.approx([h.score for h in out])


def test_weighted_zscore_by_hand() -> None:
    a = ranking([1, 2, 3], [6.0, 4.0, 2.0])  # z: +1.2247, 0, -1.2247
    b = ranking([2, 4], [1.0, 0.0])  # z: +1, -1 ; missing rows get min z = -1
    out = weighted_fusion([a, b], weights=[1.0, 1.0], norm="zscore")
    z = 2 / math.sqrt(8 / 3)
    got = {h.row: h.score for h in out}
    assert got == pytest.approx(
        {1: 0.5 * z + 0.5 * -1, 2: 0.5 * 0 + 0.5 * 1, 3: 0.5 * -z + 0.5 * -1, 4: 0.5 * -z + 0.5 * -1}
    )
    # rows 3 and 4 tie; best rank 2 (row 4 in b) beats 3 (row 3 in a)
    assert [h.row for h in out] == [2, 1, 4, 3]


def test_weighted_constant_scores() -> None:
    a = ranking([1, 2], [5.0, 5.0])  # constant -> 1.0 each, missing -> 0.0
    b = ranking([3], [0.7])  # single score: constant -> 1.0
    out = weighted_fusion([a, b], weights=[1.0, 1.0])
    got = {h.row: h.score for h in out}
    assert got == pytest.approx({1: 0.5, 2: 0.5, 3: 0.5})
    assert [h.row for h in out] == [1, 3, 2]  # ties: best rank 1 (rows 1, 3) then row number
    outz = weighted_fusion([a, b], weights=[1.0, 1.0], norm="zscore")
    assert {h.row: h.score for h in outz} == pytest.approx({1: -0.5, 2: -0.5, 3: -0.5})


def test_weighted_zero_weight_and_empty() -> None:
    a = ranking([1, 2], [2.0, 1.0])
    b = ranking([9], [1.0])
    assert [h.row for h in weighted_fusion([a, b], weights=[1.0, 0.0])] == [1, 2]
    assert [h.row for h in weighted_fusion([a, []], weights=[1.0, 1.0])] == [1, 2]
    assert weighted_fusion([[], []], weights=[1.0, 1.0]) == []
    assert len(weighted_fusion([a, b], weights=[1.0, 1.0], limit=1)) == 1


def test_weighted_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown norm"):
        weighted_fusion([ranking([1])], weights=[1.0], norm="rank")
    with pytest.raises(ValueError, match="one weight per ranking"):
        weighted_fusion([ranking([1]), ranking([2])], weights=[1.0])
