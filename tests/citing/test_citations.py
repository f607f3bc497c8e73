"""rag.citing.citations: citation parsing (robust and ALCE's exact reading) and answers split into
statements, on hand-written cases and on arbitrary text."""

from __future__ import annotations

import re

import pytest
from conftest import ANSWER_LIKE_TEXT
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.citing.citations import (
    alce_citation_numbers,
    alce_remove_citations,
    parse_answer,
    parse_citations,
    strip_citations,
)


@pytest.mark.parametrize(
    ("sentence", "n", "expected"),
    [
        ("A [1][2].", 3, ((1, 2), ())),
        ("A [1, 2].", 3, ((1, 2), ())),
        ("A [1-3].", 5, ((1, 2, 3), ())),
        ("A [1,3-4].", 5, ((1, 3, 4), ())),
        ("A [ 2 ].", 3, ((2,), ())),
        ("A [1] [2].", 3, ((1, 2), ())),
        ("A [2][1][2].", 3, ((2, 1), ())),  # order of appearance, duplicates removed
        ("A [0][2][9].", 3, ((2,), (0, 9))),  # 0 and beyond-range are invalid
        ("A [1-4].", 2, ((1, 2), (3, 4))),
        ("A [1; 2].", 3, ((1, 2), ())),
        ("A [a] [] [1-] [3-1] [1,] [x2].", 5, ((), ())),  # malformed: not citations
        ("A [1-500].", 5, ((), ())),  # absurd range: not a citation
        ("No markers at all.", 3, ((), ())),
        ("A [1].", 0, ((), (1,))),
    ],
)
def test_parse_citations(sentence: str, n: int, expected: tuple) -> None:
    assert parse_citations(sentence, n) == expected


def test_parse_citations_rejects_negative_count() -> None:
    with pytest.raises(ValueError, match="n_passages"):
        parse_citations("A [1].", -1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paris is in France [1][2].", "Paris is in France."),
        ("Paris [1], the capital [2-3] .", "Paris, the capital."),
        ("See [a] here [1]", "See [a] here"),
        ("Out of range [9] too.", "Out of range too."),
        ("[1] Starts with one.", "Starts with one."),
    ],
)
def test_strip_citations(text: str, expected: str) -> None:
    assert strip_citations(text) == expected


def test_alce_citation_numbers_reads_every_open_bracket_number() -> None:
    # ALCE's regex "\[\d+": "[1, 2]" is only 1; duplicates kept; "[12" without "]" still counts.
    assert alce_citation_numbers("X [1, 2] [3][3] [a] [12") == [1, 3, 3, 12]
    assert alce_citation_numbers("X [1-3].") == [1]
    assert alce_citation_numbers("no citation") == []


def test_alce_remove_citations_quirks() -> None:
    # " [1" and " [3" go, then every "]" goes: ", 2" stays.
    assert alce_remove_citations("Paris [1, 2] is big [3].") == "Paris, 2 is big."
    assert alce_remove_citations("a [1] | b") == "a b"
    assert alce_remove_citations("x[2] y") == "x y"
    assert alce_remove_citations("list [a] here") == "list [a here"


def test_parse_answer_basic() -> None:
    st = parse_answer("Paris is in France [1]. It is big [2][5].", 3)
    assert [s.text for s in st] == ["Paris is in France.", "It is big."]
    assert [s.citations for s in st] == [(1,), (2,)]
    assert [s.invalid_citations for s in st] == [(), (5,)]
    assert st[0].raw == "Paris is in France [1]."


@pytest.mark.parametrize(
    "text",
    [
        "Paris is in France. [2] It is big.",
        "Paris is in France.[2] It is big.",
        "Paris is in France. [2][3] It is big.",
    ],
)
def test_parse_answer_marker_after_full_stop_belongs_to_previous_sentence(text: str) -> None:
    st = parse_answer(text, 3)
    assert [s.text for s in st] == ["Paris is in France.", "It is big."]
    assert st[0].citations[0] == 2
    assert st[1].citations == ()
    assert "[2]" in st[0].raw and "[2]" not in st[1].raw


def test_parse_answer_trailing_marker_and_fragments() -> None:
    st = parse_answer("Paris is in France. [2]", 3)
    assert len(st) == 1 and st[0].citations == (2,) and st[0].text == "Paris is in France."
    assert parse_answer("", 3) == ()
    assert parse_answer("   ", 3) == ()
    assert parse_answer("[1]", 3) == ()  # a citation-only fragment is not a statement
    first = parse_answer("[1] Paris is big.", 3)
    assert len(first) == 1 and first[0].citations == (1,) and first[0].text == "Paris is big."


@settings(max_examples=300, deadline=None)
@given(text=ANSWER_LIKE_TEXT, n=st.integers(min_value=0, max_value=6))
def test_the_citation_parser_takes_any_text(text: str, n: int) -> None:
    for st_ in parse_answer(text, n):
        assert st_.text.strip() and re.search(r"\w", st_.text)
        assert all(1 <= c <= n for c in st_.citations) and len(set(st_.citations)) == len(st_.citations)
        assert not any(1 <= c <= n for c in st_.invalid_citations)
        assert len(set(st_.invalid_citations)) == len(st_.invalid_citations)
    valid, invalid = parse_citations(text, n)
    assert set(valid) <= set(range(1, n + 1)) and not set(valid) & set(invalid)
