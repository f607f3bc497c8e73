"""Paired run comparison: hand-worked differences, bootstrap bounds, reading scores files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.paired import compare, diff_markdown, paired_diff, read_scores


def test_hand_worked_difference_and_counts() -> None:
    # differences B - A: +1, 0, -0.5 -> mean 1/6 = 16.67 points; one win, one loss, one tie
    d = paired_diff([0.0, 1.0, 0.5], [1.0, 1.0, 0.0], "str_em", samples=2000)
    assert d.n == 3
    assert d.mean_a == pytest.approx(50.0)
    assert d.mean_b == pytest.approx(200 / 3)
    assert d.diff == pytest.approx(100 / 6)
    assert (d.wins, d.losses, d.ties) == (1, 1, 1)
    # the bootstrap mean of three differences lies between the smallest and the largest
    assert -50.0 <= d.ci_low <= d.diff <= d.ci_high <= 100.0


def test_constant_difference_has_a_point_interval() -> None:
    d = paired_diff([0.2, 0.4, 0.1, 0.9], [0.45, 0.65, 0.35, 1.15], samples=500)
    assert d.diff == pytest.approx(25.0)
    assert d.ci_low == pytest.approx(25.0) and d.ci_high == pytest.approx(25.0)
    assert d.wins == 4


def test_seeded_and_rejects_bad_input() -> None:
    a, b = [0.0, 1.0, 0.0, 1.0, 0.5], [1.0, 1.0, 0.0, 0.0, 1.0]
    assert paired_diff(a, b, seed=3) == paired_diff(a, b, seed=3)
    with pytest.raises(ValueError, match="length"):
        paired_diff([0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="no shared questions"):
        paired_diff([], [])


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_compare_skips_missing_values_and_unshared_questions(tmp_path: Path) -> None:
    a = read_scores(
        _write(
            tmp_path / "a.jsonl",
            [
                {"system": "s", "id": "q1", "str_em": 0.0, "citation_recall": 0.5},
                {"system": "s", "id": "q2", "str_em": 1.0, "citation_recall": None},
                {"system": "s", "id": "q3", "str_em": 1.0, "citation_recall": 1.0},
            ],
        )
    )
    b = read_scores(
        _write(
            tmp_path / "b.jsonl",
            [
                {"system": "t", "id": "q1", "str_em": 1.0, "citation_recall": 1.0},
                {"system": "t", "id": "q2", "str_em": 1.0, "citation_recall": 1.0},
            ],
        )
    )
    diffs = {d.metric: d for d in compare(a, b, ("str_em", "citation_recall"), samples=100)}
    assert diffs["str_em"].n == 2 and diffs["str_em"].diff == pytest.approx(50.0)
    assert diffs["citation_recall"].n == 1 and diffs["citation_recall"].diff == pytest.approx(50.0)
    table = diff_markdown(list(diffs.values()), "A", "B")
    assert "| str_em | 2 | 50.0 | 100.0 | +50.0 |" in table


def test_read_scores_needs_a_system_when_several(tmp_path: Path) -> None:
    p = _write(tmp_path / "s.jsonl", [{"system": "x", "id": "q", "str_em": 0}, {"system": "y", "id": "q", "str_em": 1}])
    with pytest.raises(ValueError, match="several systems"):
        read_scores(p)
    assert read_scores(p, "y")["q"]["str_em"] == 1
    with pytest.raises(ValueError, match="no scores for system"):
        read_scores(p, "z")
    with pytest.raises(FileNotFoundError):
        read_scores(tmp_path / "missing.jsonl")
