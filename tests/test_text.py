"""rag.text: sentences split by the packaged punkt model exactly as nltk.sent_tokenize splits them
(with no NLTK_DATA and nothing read from outside the package), sentence offsets, the sentence-end
and word helpers, and answer normalisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ANSWER_LIKE_TEXT, run_doctests
from hypothesis import given, settings

import rag.text
from rag.text import (
    PUNKT_MODEL_DIR,
    content_words,
    ends_dangling,
    ends_sentence,
    is_cut_off,
    jaccard,
    load_sentence_splitter,
    normalize_answer,
    sentence_spans,
    split_sentences,
    words,
)

#: The four files of NLTK's English punkt_tab model.
MODEL_FILES = ("abbrev_types.txt", "collocations.tab", "ortho_context.tab", "sent_starters.txt")


@pytest.fixture
def fresh_splitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The splitter read again at its first use (not the one an earlier test loaded)."""
    monkeypatch.setattr(rag.text, "_splitter", None)


@pytest.fixture
def nltk_on_the_packaged_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """nltk's own sent_tokenize reading the packaged model: its search path holds only a folder
    laid out as nltk_data (tokenizers/punkt_tab/english) with a copy of the package's files."""
    import nltk.data
    import nltk.tokenize

    english = tmp_path / "tokenizers" / "punkt_tab" / "english"
    english.mkdir(parents=True)
    for name in MODEL_FILES:
        (english / name).write_bytes((PUNKT_MODEL_DIR / name).read_bytes())
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    nltk.tokenize._get_punkt_tokenizer.cache_clear()  # a tokenizer nltk read from elsewhere
    yield
    nltk.tokenize._get_punkt_tokenizer.cache_clear()


# ---------------------------------------------------------------- the packaged model


def test_the_model_is_shipped_in_the_package() -> None:
    assert PUNKT_MODEL_DIR == Path(rag.text.__file__).resolve().parent / "resources" / "punkt_tab" / "english"
    assert sorted(p.name for p in PUNKT_MODEL_DIR.iterdir()) == list(MODEL_FILES)
    assert (PUNKT_MODEL_DIR.parent / "NOTICE").is_file()  # its licence travels with it


def test_the_model_loads_from_the_package_without_nltk_data(
    monkeypatch: pytest.MonkeyPatch, fresh_splitter: None, tmp_path: Path
) -> None:
    monkeypatch.delenv("NLTK_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/nltk_data either
    load_sentence_splitter()
    assert rag.text._splitter is not None
    assert split_sentences("Tea is from China. Coffee is from Yemen.") == [
        "Tea is from China.",
        "Coffee is from Yemen.",
    ]


def test_an_nltk_data_folder_elsewhere_is_never_read(
    monkeypatch: pytest.MonkeyPatch, fresh_splitter: None, tmp_path: Path
) -> None:
    """A broken punkt_tab where NLTK_DATA points changes nothing: the packaged model is read."""
    english = tmp_path / "tokenizers" / "punkt_tab" / "english"
    english.mkdir(parents=True)
    for name in MODEL_FILES:
        (english / name).write_text("not a punkt model\t\x00\n", encoding="utf-8")
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    assert split_sentences("Mr. Smith went to Washington. He stayed.") == [
        "Mr. Smith went to Washington.",
        "He stayed.",
    ]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Mr. Smith went to Washington D.C. in 1999. He stayed [1]. Then he left!",
            ["Mr. Smith went to Washington D.C. in 1999.", "He stayed [1].", "Then he left!"],
        ),
        (
            "The U.S. team won [2][3]. It was the 3rd time. \u201cWow,\u201d he said.",
            ["The U.S. team won [2][3].", "It was the 3rd time.", "\u201cWow,\u201d he said."],
        ),
        ("Paris is in France. [2] It is big.", ["Paris is in France.", "[2] It is big."]),
        ("one sentence without stop", ["one sentence without stop"]),
        ("", []),
        ("  \n\t", []),
    ],
)
def test_split_sentences_by_hand_and_as_nltk_sent_tokenize(
    text: str, sentences: list[str], nltk_on_the_packaged_model: None
) -> None:
    import nltk

    assert split_sentences(text) == sentences
    assert split_sentences(text) == (nltk.sent_tokenize(text) if text.strip() else [])


# ---------------------------------------------------------------- sentence offsets


HONEY = "Honeybees live in colonies with one queen."


CURIE = "Radium was discovered by Marie Curie in Paris."


GLOW = "It glows faintly blue in the dark."


TEXTS = [
    "Radium was discovered in 1898. It glows.",
    "  Leading space. Then more!  Trailing space?  ",
    'One line.\nAnother line.\n\nA paragraph (with brackets.) And quotes: "yes." End',
    "Dr. Curie worked in Paris, e.g. in a shed. It was cold.",
    "No full stop at all",
    "\t\n",
    "",
]


PASSAGE = f"{HONEY} {CURIE}\n{GLOW}"
CURIE_SPAN = (len(HONEY) + 1, len(HONEY) + 1 + len(CURIE))


@pytest.mark.parametrize("text", TEXTS)
def test_sentence_spans_give_the_sentences_of_split_sentences(text: str) -> None:
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == split_sentences(text)
    assert all(a < b for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))


def test_sentence_spans_by_hand() -> None:
    assert sentence_spans(PASSAGE) == [
        (0, len(HONEY)),
        CURIE_SPAN,
        (CURIE_SPAN[1] + 1, len(PASSAGE)),
    ]


@settings(max_examples=300, deadline=None)
@given(text=ANSWER_LIKE_TEXT)
def test_the_sentence_splitter_takes_any_text(text: str) -> None:
    spans = sentence_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))  # in order, never overlapping
    sentences = split_sentences(text)
    assert all(s.strip() for s in sentences)
    assert len(sentences) == len(spans)


# ---------------------------------------------------------------- sentence ends and words


def test_is_cut_off_doctest_example() -> None:
    assert not is_cut_off("Radium was found in 1898.")


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("Radium was found by the Curies.", False),
        ("Was it found by the Curies?", False),
        ("It glows!", False),
        ('He said "it glows."', False),
        ("It glows (faintly.)", False),
        ("Radium was found by the Curies", True),
        ("Radium was found in", True),
        ("It is the.", True),
        ("It was found by.", True),
        ("", True),
        ("   ", True),
    ],
)
def test_is_cut_off(text: str, cut: bool) -> None:
    assert is_cut_off(text) is cut


def test_ends_sentence_and_dangling_words() -> None:
    assert ends_sentence("It glows.") and ends_sentence('He said "yes."  ') and ends_sentence("Why (then?)")
    assert not ends_sentence("It glows") and not ends_sentence("")
    assert ends_dangling("It was found by the") and ends_dangling("Tea and")
    assert not ends_dangling("She was born in.") and not ends_dangling("")


def test_words_content_words_and_jaccard() -> None:
    assert words("The Curies' lab, 1898!") == ["the", "curies", "lab", "1898"]
    assert content_words("It was the first of them") == {"first"}
    assert content_words("") == set()
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 1.0 and jaccard({"a"}, set()) == 0.0


@pytest.mark.parametrize(
    ("text", "normal"),
    [("The  Eiffel-Tower!", "eiffeltower"), ("An apple, a pear", "apple pear"), ("Theatre", "theatre"), ("", "")],
)
def test_normalize_answer(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


def test_the_module_examples_hold() -> None:
    run_doctests(rag.text)
