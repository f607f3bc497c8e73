"""rag.evidence.config: EvidenceConfig's checks, and the selection's passages."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import pytest

from rag.errors import RagError
from rag.evidence import (
    Evidence,
    EvidenceConfig,
    EvidenceSelection,
)

if TYPE_CHECKING:
    pass


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_sentences": 0}, "max_sentences"),
        ({"per_passage": 0}, "per_passage"),
        ({"duplicate_overlap": 0.0}, "duplicate_overlap"),
        ({"duplicate_overlap": 1.2}, "duplicate_overlap"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(RagError, match=message):
        EvidenceConfig(**kwargs)


def test_config_accepts_the_edges() -> None:
    EvidenceConfig(max_sentences=1, per_passage=1, duplicate_overlap=1.0, min_probability=0.0, quote_words=0)
    EvidenceConfig(prompt_sentences=1, reader_sentences=1, min_probability=0.999)


def test_quote_words_must_not_be_negative() -> None:
    with pytest.raises(RagError, match="quote_words"):
        EvidenceConfig(quote_words=-1)


@pytest.mark.parametrize(
    "kwargs", [{"min_probability": 1.0}, {"min_probability": -0.1}, {"prompt_sentences": 0}, {"reader_sentences": 0}]
)
def test_bad_learned_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(RagError):
        EvidenceConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("retired", ["scorer", "keep_ratio", "rank_weight"])
def test_the_hand_scorers_settings_are_gone(retired: str) -> None:
    """Evidence is ranked by the learned scorer only (``rag.config`` refuses old runs that used
    the hand-set one)."""
    assert retired not in {f.name for f in fields(EvidenceConfig)}


def test_the_selection_lists_its_passages_in_passage_order() -> None:
    selection = EvidenceSelection(
        (Evidence(3, 0, 4, "Abcd", 0.9), Evidence(1, 0, 4, "Efgh", 0.5), Evidence(3, 5, 9, "Ijkl", 0.4)), 0.9, True
    )
    assert selection.passages() == (1, 3)
    assert EvidenceSelection((), 0.0, False).passages() == ()
    assert EvidenceSelection((), 0.0, False).reader_answer is None
