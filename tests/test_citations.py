"""Citation parsing and sentence splitting, on hand-written cases."""

from __future__ import annotations

import pytest

from rag.citing import citations
from rag.citing.citations import (
    alce_citation_numbers,
    alce_remove_citations,
    parse_answer,
    parse_citations,
    split_sentences,
    strip_citations,
)
from rag.paths import nltk_data_dir


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


def test_split_sentences_matches_nltk_sent_tokenize(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(nltk_data_dir())])
    texts = [
        "Mr. Smith went to Washington D.C. in 1999. He stayed [1]. Then he left!",
        "The U.S. team won [2][3]. It was the 3rd time. \u201cWow,\u201d he said.",
        "Paris is in France. [2] It is big.",
        "one sentence without stop",
    ]
    for text in texts:
        assert split_sentences(text) == nltk.sent_tokenize(text)
    assert split_sentences("") == []


def test_split_sentences_missing_data_names_nltk_data(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    monkeypatch.setattr(citations, "_tokenizer", None)
    with pytest.raises(FileNotFoundError, match="NLTK_DATA"):
        split_sentences("A sentence. Another one.")


def test_loading_the_splitter_without_punkt_data_is_not_an_error(monkeypatch, tmp_path) -> None:
    """`Pipeline.from_names` (so `rag ask`) loads the splitter up front; without the data it must
    still answer, with the fallback split."""
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    monkeypatch.setattr(citations, "_tokenizer", None)
    monkeypatch.setattr("nltk.data.path", [str(tmp_path)])
    citations.load_sentence_splitter()
    assert citations._tokenizer is None
    assert citations.sentences_for_answer("Tea is from China. Coffee is from Yemen.") == [
        "Tea is from China.",
        "Coffee is from Yemen.",
    ]


def test_parse_answer_without_punkt_data_falls_back(monkeypatch, tmp_path) -> None:
    import rag.citing.citations as citations

    monkeypatch.setenv("NLTK_DATA", str(tmp_path))  # an empty folder: no punkt_tab there
    monkeypatch.setattr(citations, "_tokenizer", None)
    monkeypatch.setattr("nltk.data.path", [str(tmp_path)])
    with pytest.raises(FileNotFoundError, match="NLTK_DATA"):
        citations.split_sentences("One. Two.")  # the metrics never fall back
    statements = citations.parse_answer("Tea is from China [1]. Coffee is from Yemen [2][9].", 2)
    assert [(s.text, s.citations, s.invalid_citations) for s in statements] == [
        ("Tea is from China.", (1,), ()),
        ("Coffee is from Yemen.", (2,), (9,)),
    ]
