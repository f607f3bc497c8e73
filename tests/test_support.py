"""Supporting-sentence offsets: rag.citing.citations.sentence_spans, rag.citing.attribution's
support_spans and remap, and Answer.to_dict()'s ``support`` entries, on hand-made passages."""

from __future__ import annotations

import random

import pytest

import rag.citing.citations as citations_module
from rag.citing.attribution import remap, support_spans
from rag.citing.citations import sentence_spans, sentences_for_answer, split_sentences
from rag.errors import MissingFileError
from rag.types import Answer, Passage, ScoredPassage, Statement, Support

HONEY = "Honeybees live in colonies with one queen."
CURIE = "Radium was discovered by Marie Curie in Paris."
GLOW = "It glows faintly blue in the dark."
PASSAGE = Passage("p", f"{HONEY} {CURIE}\n{GLOW}", "Radium")
OTHER = Passage("o", "Polonium was named after Poland. Marie Curie was born in Warsaw.", "Polonium")
CURIE_SPAN = (len(HONEY) + 1, len(HONEY) + 1 + len(CURIE))


def _st(text: str, citations: tuple[int, ...]) -> Statement:
    return Statement(text=text, raw=text, citations=citations)


# ---------------------------------------------------------------- sentence_spans


TEXTS = [
    "Radium was discovered in 1898. It glows.",
    "  Leading space. Then more!  Trailing space?  ",
    'One line.\nAnother line.\n\nA paragraph (with brackets.) And quotes: "yes." End',
    "Dr. Curie worked in Paris, e.g. in a shed. It was cold.",
    "No full stop at all",
    "\t\n",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_sentence_spans_give_the_sentences_of_split_sentences(text: str) -> None:
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == split_sentences(text)
    assert all(a < b for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))


def test_sentence_spans_by_hand() -> None:
    assert sentence_spans(PASSAGE.text) == [
        (0, len(HONEY)),
        CURIE_SPAN,
        (CURIE_SPAN[1] + 1, len(PASSAGE.text)),
    ]


def test_sentence_spans_without_punkt_use_the_regex_split(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise MissingFileError("no punkt_tab here")

    monkeypatch.setattr(citations_module, "_punkt_tokenizer", missing)
    monkeypatch.setattr(citations_module, "_warned_fallback", True)  # no warning in the test log
    text = f"  {HONEY}  {CURIE}\n{GLOW}"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == sentences_for_answer(text) == [HONEY, CURIE, GLOW]
    assert spans[0] == (2, 2 + len(HONEY))


# ---------------------------------------------------------------- support_spans


def test_a_quote_gets_its_sentence() -> None:
    assert support_spans(_st(CURIE, (1,)), [PASSAGE]) == (Support(1, *CURIE_SPAN),)


def test_a_paraphrase_sharing_half_its_content_words_gets_the_sentence() -> None:
    # marie, curie, found, element: marie and curie are in CURIE (2 of 4, the threshold)
    assert support_spans(_st("Marie Curie found the element.", (1,)), [PASSAGE]) == (Support(1, *CURIE_SPAN),)
    # marie, curie, found, element, polonium: 2 of 5 < 0.5
    assert support_spans(_st("Marie Curie found the element polonium.", (1,)), [PASSAGE]) == ()
    assert support_spans(_st("Marie Curie found the element polonium.", (1,)), [PASSAGE], min_overlap=0.4) == (
        Support(1, *CURIE_SPAN),
    )


def test_an_unrelated_statement_gets_no_span() -> None:
    assert support_spans(_st("Bananas grow in warm climates.", (1,)), [PASSAGE]) == ()
    assert support_spans(_st("Of it.", (1,)), [PASSAGE]) == ()  # no content word at all


def test_the_sentence_sharing_most_words_wins() -> None:
    # discovered, marie, curie, paris: CURIE has all four, OTHER's second sentence marie, curie
    statement = _st("Marie Curie discovered it in Paris.", (2, 1))
    start = OTHER.text.index("Marie")
    assert support_spans(statement, [PASSAGE, OTHER]) == (
        Support(2, start, len(OTHER.text)),  # 2 of 4 in the other passage: still its best
        Support(1, *CURIE_SPAN),
    )


def test_spans_only_for_cited_passages() -> None:
    assert support_spans(_st(CURIE, ()), [PASSAGE]) == ()
    assert support_spans(_st(CURIE, (2,)), [OTHER, PASSAGE]) == (Support(2, *CURIE_SPAN),)
    # a cited passage without a matching sentence gives nothing, the others still do
    assert support_spans(_st(CURIE, (1, 2)), [Passage("x", "Bananas grow well in warm climates."), PASSAGE]) == (
        Support(2, *CURIE_SPAN),
    )


@pytest.mark.parametrize("seed", range(10))
def test_support_offsets_point_at_a_whole_sentence(seed: int) -> None:
    rng = random.Random(seed)
    sentences = [HONEY, CURIE, GLOW, "Polonium was named after Poland.", "Marie Curie was born in Warsaw."]
    passages = []
    for i in range(3):
        chosen = rng.sample(sentences, 3)
        passages.append(Passage(f"p{i}", "".join(s + rng.choice([" ", "\n", "  "]) for s in chosen)))
    for sentence in sentences:
        cites = tuple(n for n, p in enumerate(passages, 1) if sentence in p.text)
        spans = support_spans(_st(sentence, cites), passages)
        assert [s.passage for s in spans] == list(cites)
        for s in spans:
            assert passages[s.passage - 1].text[s.start : s.end] == sentence


# ---------------------------------------------------------------- remap


def test_remap_to_the_given_numbers() -> None:
    statements = (
        Statement("A is B.", "A is B [1].", (1,)),
        Statement("C is D.", "C is D [2][1].", (2, 1)),
        Statement("E is F.", "E is F.", ()),
    )
    out = remap(statements, [2, 5])
    assert [(st.citations, st.raw) for st in out] == [
        ((2,), "A is B [2]."),
        ((5, 2), "C is D [5][2]."),
        ((), "E is F."),
    ]
    assert [st.text for st in out] == ["A is B.", "C is D.", "E is F."]


def test_remap_keeps_the_other_fields() -> None:
    st = Statement("A is B.", "A is B [1].", (1,), invalid_citations=(7,), verdict="supported")
    (out,) = remap([st], [3])
    assert (out.citations, out.invalid_citations, out.verdict) == ((3,), (7,), "supported")


def test_remap_merges_citations_that_become_the_same() -> None:
    (out,) = remap([Statement("A is B.", "A is B [1][2].", (1, 2))], [4, 4])
    assert (out.citations, out.raw) == ((4,), "A is B [4].")


@pytest.mark.parametrize("numbers", [[1, 2, 3], [], [1]])
def test_remap_with_the_identity_changes_nothing(numbers: list[int]) -> None:
    statements = (Statement("A is B.", "A is B[1] .", (1,)),)  # raw as written, not rewritten
    assert remap(statements, numbers) == statements


# ---------------------------------------------------------------- Answer.to_dict


def test_to_dict_support_carries_the_passage_id_and_the_text() -> None:
    passages = (ScoredPassage(OTHER, 0.9, 1), ScoredPassage(PASSAGE, 0.8, 2))
    statement = Statement(
        "Marie Curie discovered radium in Paris.",
        "Marie Curie discovered radium in Paris [2][1].",
        (2, 1),
        support=(Support(2, *CURIE_SPAN), Support(1, 33, len(OTHER.text))),
    )
    d = Answer("Who?", statement.raw, (statement,), passages, "scripted").to_dict()
    assert d["answered"] is True
    assert d["statements"][0]["support"] == [
        {"passage": 2, "start": CURIE_SPAN[0], "end": CURIE_SPAN[1], "passage_id": "p", "text": CURIE},
        {
            "passage": 1,
            "start": 33,
            "end": len(OTHER.text),
            "passage_id": "o",
            "text": "Marie Curie was born in Warsaw.",
        },
    ]
    # Statement.to_dict alone has the offsets only; the statement itself is unchanged
    assert statement.to_dict()["support"] == [
        {"passage": 2, "start": CURIE_SPAN[0], "end": CURIE_SPAN[1]},
        {"passage": 1, "start": 33, "end": len(OTHER.text)},
    ]


def test_to_dict_of_an_unanswered_answer() -> None:
    d = Answer("Who?", "Not here.", (), (ScoredPassage(OTHER, 0.1, 1),), "scripted", answered=False).to_dict()
    assert (d["answered"], d["statements"], d["citations"], d["answer"]) == (False, [], [], "Not here.")
    assert d["passages"][0]["passage"]["id"] == "o"
