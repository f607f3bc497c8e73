"""rag.citing.evidence: question-focused evidence sentences on hand-made passages.

The embedder is conftest's BowEmbedder (each text its set of content words, as a unit vector), so
every cosine below is ``|A & B| / sqrt(|A| * |B|)`` of two content-word sets, and every expected
score is worked out by hand from select_evidence's rule:
``cosine + lexical_weight * lexical + type_weight * (answer-type match)``, with the defaults
lexical_weight 0.5 and type_weight 0.1 (the ``"hand"`` scorer; the learned one is tested last).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from rag.citing.citations import split_sentences
from rag.citing.evidence import (
    FEATURE_NAMES,
    LEARNED_BIAS,
    LEARNED_WEIGHTS,
    READER_WEIGHTS,
    Evidence,
    EvidenceConfig,
    EvidenceSelection,
    answer_pieces,
    answer_type,
    as_quote,
    candidate_evidence,
    clean_spans,
    cut_at_start,
    evidence_passages,
    holds_answer,
    is_fragment,
    is_list_line,
    is_whole,
    leans_back,
    learned_eligible,
    learned_scores,
    lexical_scores,
    matches_type,
    select_evidence,
    sentence_features,
    title_heading,
    titled,
    with_quotes,
    with_reader,
    without_footnotes,
)
from rag.errors import RagError
from rag.types import Passage, Statement

if TYPE_CHECKING:
    from conftest import BowEmbedder


def _hand(**kwargs: object) -> EvidenceConfig:
    """The hand-set scorer (relevance and the rank prior) with 4 sentences, 2 a passage: what the
    hand-worked scores below are for. The learned scorer has its own tests at the end."""
    return EvidenceConfig(**{"scorer": "hand", "max_sentences": 4, "per_passage": 2, **kwargs})  # type: ignore[arg-type]


# The scores below are worked out by hand for relevance alone (no rank prior: its own test is
# last), keeping sentences at 0.6 of the best or more.
RELEVANCE = _hand(rank_weight=0.0, keep_ratio=0.6)
QUESTION = "When was radium discovered?"  # content words: radium, discovered; asks for a date
REPEAT = "When radium was discovered is often asked."  # radium, discovered, often, asked
YEAR = "Radium was discovered in December 1898."  # radium, discovered, december, 1898
GLOW = "Radium glows faintly blue in the dark."  # radium, glows, faintly, blue, dark
SHED = "The Curies worked in a shed in Paris."  # curies, worked, shed, paris
QUESTION_ASKED = Passage("asked", f"{REPEAT} {GLOW}", "Radium")
ANSWERING = Passage("answers", f"{YEAR} {SHED}", "Curie")
TWO = [QUESTION_ASKED, ANSWERING]

COS_2_OF_4 = 2 / math.sqrt(2 * 4)  # the question against a 4-word sentence holding both its words


@pytest.fixture
def embed(bow_embedder: type[BowEmbedder]) -> BowEmbedder:
    return bow_embedder()


def _texts(selection: EvidenceSelection) -> list[str]:
    return [e.text for e in selection.evidence]


# ---------------------------------------------------------------- answer types


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was radium discovered?", "date"),
        ("when did the war end", "date"),
        ("In what year did the Titanic sink?", "date"),
        ("Which century saw the printing press?", "date"),
        ("On what date was the treaty signed?", "date"),
        ("Who discovered radium?", "person"),
        ("To whom was the prize given?", "person"),
        ("The prize went to who?", "person"),
        ("Where is the Eiffel Tower?", "place"),
        ("In which country is Timbuktu?", "place"),
        ("What city hosted the 1900 games?", "place"),
        ("How many moons does Mars have?", "number"),
        ("How long is the Nile?", "number"),
        ("how   OLD was Mozart when he died?", "number"),  # spacing and case do not matter
        ("Why is the sky blue?", None),
        ("What is the capital of France?", None),
        ("Whose idea was the metric system?", None),  # "whose" is not "who"
    ],
)
def test_answer_type(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "sentence", "expected"),
    [
        ("date", "Radium was discovered in December 1898.", True),
        ("date", "It was built in the 1890s.", True),
        ("date", "It spread in the 12th century across Europe.", True),
        ("date", "Radium glows faintly blue in the dark.", False),
        ("number", "Mars has two small moons.", True),
        ("number", "The river is 6,650 km long.", True),
        ("number", "Mars has small moons.", False),
        ("person", "It was discovered by Marie Curie in Paris.", True),
        ("person", "Radium was discovered in Paris.", False),  # one capitalised word is no name
        ("place", "The tower stands in Paris.", True),
        ("place", "The tower stands tall.", False),
        (None, "Radium was discovered in December 1898.", False),
    ],
)
def test_matches_type(kind: str | None, sentence: str, expected: bool) -> None:
    assert matches_type(kind, sentence) is expected


# ---------------------------------------------------------------- lexical scores


def test_lexical_scores_weigh_question_words_by_idf() -> None:
    # 4 sentences; "radium" is in 3 of them: idf log(1 + 4/4) = log 2; "discovered" in 2:
    # idf log(1 + 4/3). A sentence with both has 1; GLOW has radium only; SHED neither.
    scores = lexical_scores(QUESTION, [REPEAT, GLOW, YEAR, SHED])
    radium, discovered = math.log(2.0), math.log(1.0 + 4 / 3)
    assert scores == pytest.approx([1.0, radium / (radium + discovered), 1.0, 0.0])


def test_lexical_scores_of_a_question_without_content_words_are_zero() -> None:
    assert lexical_scores("When was it?", [YEAR, SHED]) == [0.0, 0.0]


# ---------------------------------------------------------------- choosing the answering sentence


def test_the_sentence_with_the_year_beats_one_repeating_the_question(embed: BowEmbedder) -> None:
    selection = select_evidence(QUESTION, TWO, embed=embed.encode, config=RELEVANCE)
    # REPEAT and YEAR both hold radium and discovered among four content words: cosine
    # 2/sqrt(8) each, lexical 1 each; only YEAR holds a date (+0.1).
    # GLOW: cosine 1/sqrt(10), lexical log2 / (log2 + log(7/3)) -> 0.541 < 0.6 * best: left out;
    # SHED shares nothing with the question: 0.
    best = COS_2_OF_4 + 0.5 + 0.1
    assert _texts(selection) == [YEAR, REPEAT]
    assert [e.score for e in selection.evidence] == pytest.approx([best, COS_2_OF_4 + 0.5])
    assert selection.relevance == pytest.approx(best)
    assert selection.answered
    assert selection.passages() == (1, 2)


def test_with_one_sentence_only_the_year_is_chosen(embed: BowEmbedder) -> None:
    selection = select_evidence(QUESTION, TWO, embed=embed.encode, config=_hand(rank_weight=0.0, max_sentences=1))
    assert selection.evidence == (Evidence(2, 0, len(YEAR), YEAR, pytest.approx(COS_2_OF_4 + 0.6)),)


def test_no_embed_function_scores_lexically(embed: BowEmbedder) -> None:
    # without cosine: YEAR 0.5 * 1 + 0.1, REPEAT 0.5 * 1, GLOW 0.5 * 0.45 (under 0.6 * 0.6), SHED 0
    selection = select_evidence(QUESTION, TWO, config=RELEVANCE)
    assert _texts(selection) == [YEAR, REPEAT]
    assert [e.score for e in selection.evidence] == pytest.approx([0.6, 0.5])
    assert selection.relevance == pytest.approx(0.6) and selection.answered
    # the same choice as with the embedder (which was not asked for anything here)
    assert embed.encoded == []


def test_the_embedder_is_asked_once_with_the_question_first(embed: BowEmbedder) -> None:
    select_evidence(QUESTION, TWO, embed=embed.encode, config=RELEVANCE)
    assert embed.encoded == [[QUESTION, REPEAT, GLOW, YEAR, SHED]]
    # the learned scorer also reads each sentence with its title, in the same call
    embed.encoded.clear()
    select_evidence(QUESTION, TWO, embed=embed.encode, config=EvidenceConfig())
    titled_texts = [f"Radium: {REPEAT}", f"Radium: {GLOW}", f"Curie: {YEAR}", f"Curie: {SHED}"]
    assert embed.encoded == [[QUESTION, REPEAT, GLOW, YEAR, SHED, *titled_texts]]


# ---------------------------------------------------------------- duplicates and limits


def test_a_sentence_in_two_passages_and_a_near_copy_are_chosen_once(embed: BowEmbedder) -> None:
    passages = [
        Passage("a", f"{YEAR} It glows in the dark when pure."),
        Passage("b", f"{YEAR} Marie Curie named the new element radium."),
        # the near-copy: curies, discovered, radium, december, 1898 against YEAR's four: Jaccard 4/5
        Passage("c", "The Curies discovered radium in December 1898."),
    ]
    for fn in (None, embed.encode):
        # keep_ratio 0 lets every sentence through the score cut: only the duplicate rule is left
        selection = select_evidence(QUESTION, passages, embed=fn, config=_hand(rank_weight=0.0, keep_ratio=0.0))
        texts = _texts(selection)
        assert texts.count(YEAR) == 1
        assert "The Curies discovered radium in December 1898." not in texts
        assert texts == [YEAR, "Marie Curie named the new element radium.", "It glows in the dark when pure."]
        assert selection.evidence[0].passage == 1  # the first copy, in passage order


def test_duplicate_overlap_decides_what_a_near_copy_is() -> None:
    passages = [Passage("a", YEAR), Passage("c", "The Curies discovered radium in December 1898.")]
    # Jaccard 0.8: a duplicate under 0.7 (the default), and not under 0.9
    cfg = _hand(rank_weight=0.0, keep_ratio=0.0)
    assert len(select_evidence(QUESTION, passages, config=cfg).evidence) == 1
    cfg = _hand(rank_weight=0.0, keep_ratio=0.0, duplicate_overlap=0.9)
    assert len(select_evidence(QUESTION, passages, config=cfg).evidence) == 2


MANY = [
    Passage(
        "long",
        "Radium was discovered in December 1898. Radium was announced to the French academy. "
        "Radium glows faintly blue in the dark. Radium was later isolated as a pure metal.",
    ),
    Passage("other", "The discovery of radium made the Curies famous. Pierre Curie died in a street accident."),
    Passage("third", "Radium paint was used on watch dials for decades. Its use was banned later on."),
]


@pytest.mark.parametrize("per_passage", [1, 2, 3])
@pytest.mark.parametrize("max_sentences", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("with_embed", [False, True])
def test_per_passage_and_max_sentences_hold(
    embed: BowEmbedder, per_passage: int, max_sentences: int, with_embed: bool
) -> None:
    cfg = _hand(rank_weight=0.0, max_sentences=max_sentences, per_passage=per_passage, keep_ratio=0.0)
    selection = select_evidence(QUESTION, MANY, embed=embed.encode if with_embed else None, config=cfg)
    counts = [sum(e.passage == n for e in selection.evidence) for n in (1, 2, 3)]
    assert max(counts) <= per_passage
    assert len(selection.evidence) == min(max_sentences, sum(min(per_passage, c) for c in (4, 2, 2)))
    assert len({e.text for e in selection.evidence}) == len(selection.evidence)


def test_per_passage_two_takes_the_two_best_of_a_passage() -> None:
    # lexically: the long passage's first sentence has both question words (0.5 + 0.1 for the
    # year); the three others have "radium" only; per_passage 2 stops after the first two chosen
    cfg = _hand(rank_weight=0.0, max_sentences=8, per_passage=2, keep_ratio=0.0)
    selection = select_evidence(QUESTION, MANY[:1], config=cfg)
    assert _texts(selection) == [
        "Radium was discovered in December 1898.",
        "Radium was announced to the French academy.",
    ]


def test_sentences_under_min_words_are_not_candidates() -> None:
    passages = [Passage("short", "Radium was discovered. It was in 1898. Radium was discovered in December 1898.")]
    selection = select_evidence(QUESTION, passages, config=_hand(rank_weight=0.0, keep_ratio=0.0))
    assert _texts(selection) == [YEAR]  # the two four-word sentences are too short
    four = select_evidence(QUESTION, passages, config=_hand(rank_weight=0.0, keep_ratio=0.0, min_words=4))
    assert _texts(four) == [YEAR, "It was in 1898."]  # 0.5 + 0.1, then the year alone: 0.1
    nothing = select_evidence(QUESTION, [Passage("tiny", "Radium. Found 1898.")], config=RELEVANCE)
    assert nothing == EvidenceSelection((), 0.0, False)
    assert select_evidence(QUESTION, [], config=RELEVANCE) == EvidenceSelection((), 0.0, False)


# ---------------------------------------------------------------- offsets


def _messy_passages(seed: int) -> list[Passage]:
    """Passages with odd white space, quotes and brackets between sentences."""
    rng = random.Random(seed)
    pool = [
        YEAR,
        REPEAT,
        GLOW,
        SHED,
        '"Radium was discovered by the Curies," the paper said.',
        "Marie Curie (born in Warsaw) discovered radium and polonium.",
        "It was announced on 26 December 1898 to the academy!",
        "Was radium discovered before polonium?",
    ]
    seps = [" ", "  ", "\n", "\n\n", " \t "]
    out = []
    for i in range(4):
        sentences = rng.sample(pool, rng.randint(1, 5))
        text = rng.choice(["", " ", "\n"]) + "".join(s + rng.choice(seps) for s in sentences)
        out.append(Passage(f"p{i}", text.rstrip() if rng.random() < 0.5 else text, f"T{i}"))
    return out


@pytest.mark.parametrize("seed", range(25))
def test_offsets_point_at_exactly_the_text(embed: BowEmbedder, seed: int) -> None:
    passages = _messy_passages(seed)
    cfg = _hand(rank_weight=0.0, max_sentences=8, per_passage=3, keep_ratio=0.0, duplicate_overlap=1.0)
    selection = select_evidence(QUESTION, passages, embed=embed.encode, config=cfg)
    assert selection.evidence
    for e in selection.evidence:
        text = passages[e.passage - 1].text
        assert text[e.start : e.end] == e.text
        # a whole sentence, as punkt splits it, without the spaces around it
        assert e.text in [s.strip() for s in split_sentences(text)]


def test_offsets_of_a_later_sentence() -> None:
    text = f"  {GLOW}\n\n{YEAR}  "
    (e,) = select_evidence(QUESTION, [Passage("p", text)], config=_hand(rank_weight=0.0, max_sentences=1)).evidence
    assert (e.passage, e.start, e.end, e.text) == (1, 2 + len(GLOW) + 2, 2 + len(GLOW) + 2 + len(YEAR), YEAR)


# ---------------------------------------------------------------- not answered


OFF_TOPIC = [
    Passage("banana", "Bananas grow well in warm tropical climates."),
    Passage("tower", "The Eiffel Tower opened to visitors in 1889."),
]


def test_off_topic_passages_are_not_an_answer(embed: BowEmbedder) -> None:
    # no content word shared with the question: cosine 0 and lexical 0; the tower sentence holds
    # a year (+0.1): best 0.1 < min_relevance 0.55
    selection = select_evidence(QUESTION, OFF_TOPIC, embed=embed.encode, config=RELEVANCE)
    assert selection.relevance == pytest.approx(0.1)
    assert not selection.answered
    # the threshold is inclusive: at 0.1 the tower sentence answers
    lower = select_evidence(QUESTION, OFF_TOPIC, embed=embed.encode, config=_hand(rank_weight=0.0, min_relevance=0.1))
    assert lower.answered
    assert _texts(lower) == ["The Eiffel Tower opened to visitors in 1889."]  # bananas: 0 < 0.6 * 0.1


def test_min_relevance_gate_on_topical_passages(embed: BowEmbedder) -> None:
    best = COS_2_OF_4 + 0.6
    assert select_evidence(
        QUESTION, TWO, embed=embed.encode, config=_hand(rank_weight=0.0, min_relevance=best)
    ).answered
    assert not select_evidence(
        QUESTION, TWO, embed=embed.encode, config=_hand(rank_weight=0.0, min_relevance=best + 1e-6)
    ).answered


# ---------------------------------------------------------------- MMR


def _table_embed(table: dict[str, Sequence[float]]):  # noqa: ANN202 - a test helper
    """An embed function that looks each text's vector up (unit vectors given by hand)."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.array([table[t] for t in texts], dtype=np.float64)

    return embed


# Scores are the cosines alone (lexical_weight and type_weight 0). The question is (1, 0, 0);
# FIRST (0.8, 0.6, 0) and ECHO (0.8, 0.6, 0) score 0.8 and are the same direction (similarity 1,
# though they share no content word); OTHER (0.6, 0, 0.8) scores 0.6, similarity 0.48 to FIRST.
FIRST = "Alpha bravo charlie delta echo."
ECHO = "Foxtrot golf hotel india juliet."
OTHER = "Kilo lima mike november oscar."
VECTORS = {"q": (1.0, 0.0, 0.0), FIRST: (0.8, 0.6, 0.0), ECHO: (0.8, 0.6, 0.0), OTHER: (0.6, 0.0, 0.8)}
COSINE_ONLY = {"lexical_weight": 0.0, "type_weight": 0.0, "keep_ratio": 0.6}


@pytest.mark.parametrize(
    ("diversity", "order"),
    [
        (0.0, [FIRST, ECHO, OTHER]),  # plain score order (ties in passage order)
        # after FIRST: ECHO 0.8 - 0.5 * 1 = 0.3, OTHER 0.6 - 0.5 * 0.48 = 0.36: OTHER first
        (0.5, [FIRST, OTHER, ECHO]),
    ],
)
def test_mmr_prefers_a_different_sentence(diversity: float, order: list[str]) -> None:
    passages = [Passage("f", FIRST), Passage("e", ECHO), Passage("o", OTHER)]
    cfg = _hand(rank_weight=0.0, diversity=diversity, **COSINE_ONLY)
    selection = select_evidence("q", passages, embed=_table_embed(VECTORS), config=cfg)
    assert _texts(selection) == order
    assert [e.score for e in selection.evidence] == pytest.approx([0.8 if t != OTHER else 0.6 for t in order])


def test_keep_ratio_cut_does_not_lose_a_sentence_above_it() -> None:
    # LOW (0.45, -0.6, sqrt(0.4375)) scores 0.45 < 0.6 * 0.8 and is orthogonal to FIRST. After
    # FIRST, MMR ranks LOW (0.45 - 0) over ECHO (0.8 - 0.5 * 1 = 0.3); ECHO scores 0.8 >= 0.48
    # and must still be chosen, LOW not.
    low = "Papa quebec romeo sierra tango."
    vectors = {**VECTORS, low: (0.45, -0.6, math.sqrt(0.4375))}
    passages = [Passage("f", FIRST), Passage("e", ECHO), Passage("l", low)]
    cfg = _hand(rank_weight=0.0, diversity=0.5, **COSINE_ONLY)
    selection = select_evidence("q", passages, embed=_table_embed(vectors), config=cfg)
    assert _texts(selection) == [FIRST, ECHO]


def test_keep_ratio_cuts_weak_sentences() -> None:
    passages = [Passage("f", FIRST), Passage("o", OTHER)]
    # OTHER 0.6 is 0.75 of the best 0.8: kept at keep_ratio 0.74, cut at 0.76
    for ratio, expected in ((0.74, [FIRST, OTHER]), (0.76, [FIRST])):
        cfg = _hand(rank_weight=0.0, lexical_weight=0.0, type_weight=0.0, keep_ratio=ratio, diversity=0.0)
        assert _texts(select_evidence("q", passages, embed=_table_embed(VECTORS), config=cfg)) == expected


# ---------------------------------------------------------------- the reduced passages


def test_evidence_passages_keep_text_order_and_numbers(embed: BowEmbedder) -> None:
    passages = [Passage("off", "Bananas grow well in warm tropical climates.", "Fruit"), *TWO]
    selection = select_evidence(QUESTION, passages, embed=embed.encode, config=_hand(rank_weight=0.0, keep_ratio=0.0))
    reduced, numbers = evidence_passages(passages, selection)
    assert numbers == list(selection.passages())
    for p, n in zip(reduced, numbers, strict=True):
        full = passages[n - 1]
        assert (p.id, p.title, p.source) == (full.id, full.title, full.source)
        spans = sorted((e.start, e.end) for e in selection.evidence if e.passage == n)
        assert p.text == " ".join(full.text[a:b] for a, b in spans)


def test_evidence_passages_by_hand() -> None:
    selection = EvidenceSelection(
        (
            Evidence(3, 0, len(YEAR), YEAR, 0.9),
            Evidence(1, len(REPEAT) + 1, len(REPEAT) + 1 + len(GLOW), GLOW, 0.5),
            Evidence(1, 0, len(REPEAT), REPEAT, 0.4),
        ),
        0.9,
        True,
    )
    passages = [QUESTION_ASKED, Passage("unused", "Nothing here is chosen at all."), ANSWERING]
    reduced, numbers = evidence_passages(passages, selection)
    assert numbers == [1, 3]  # passage order, not choice order
    assert [(p.id, p.text) for p in reduced] == [("asked", f"{REPEAT} {GLOW}"), ("answers", YEAR)]
    assert evidence_passages(passages, EvidenceSelection((), 0.0, False)) == ([], [])


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_sentences": 0}, "max_sentences"),
        ({"per_passage": 0}, "per_passage"),
        ({"keep_ratio": -0.1}, "keep_ratio"),
        ({"keep_ratio": 1.5}, "keep_ratio"),
        ({"duplicate_overlap": 0.0}, "duplicate_overlap"),
        ({"duplicate_overlap": 1.2}, "duplicate_overlap"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(RagError, match=message):
        _hand(**kwargs)


def test_config_accepts_the_edges() -> None:
    _hand(rank_weight=0.0, max_sentences=1, per_passage=1, keep_ratio=0.0, duplicate_overlap=1.0)
    _hand(rank_weight=0.0, keep_ratio=1.0)


# ---------------------------------------------------------------- quotes after the answer


def _selection(*texts: str) -> EvidenceSelection:
    """Evidence in this choice order, sentence i from passage i + 1."""
    return EvidenceSelection(tuple(Evidence(i + 1, 0, len(t), t, 1.0 - i / 10) for i, t in enumerate(texts)), 1.0, True)


ANSWER = Statement(
    text="Marie Curie found radium.", raw="Marie Curie found radium [1].", citations=(1,), verdict="supported"
)
DISCOVERED = "Radium was discovered by Marie Curie and Pierre Curie."  # 9 words
ORE = "The element radium was discovered in a pitchblende ore sample."  # 10 words


def test_with_quotes_fills_the_word_budget_in_choice_order() -> None:
    # 4 words + DISCOVERED (9) = 13; ORE (10) would make 23 > 20 and is skipped; GLOW (7) makes 20.
    # DISCOVERED shares radium, marie, curie with the answer: Jaccard 3/6 = 0.5 < 0.7, not a repeat.
    statements, added = with_quotes([ANSWER], _selection(DISCOVERED, ORE, GLOW), words=20)
    assert added == 2
    assert [(st.text, st.raw, st.citations, st.verdict) for st in statements] == [
        (ANSWER.text, ANSWER.raw, (1,), "supported"),
        (DISCOVERED, "Radium was discovered by Marie Curie and Pierre Curie [1].", (1,), "supported"),
        (GLOW, "Radium glows faintly blue in the dark [3].", (3,), "supported"),
    ]


def test_with_quotes_always_quotes_one_sentence_into_an_empty_answer() -> None:
    # DISCOVERED alone is 9 words > 5; nothing else fits after it
    statements, added = with_quotes([], _selection(DISCOVERED, ORE, GLOW), words=5)
    assert added == 1 and [st.text for st in statements] == [DISCOVERED]
    assert with_quotes([], _selection(), words=50) == ((), 0)


def test_with_quotes_skips_what_the_answer_already_says() -> None:
    same = Statement(text=DISCOVERED, raw=f"{DISCOVERED[:-1]} [2].", citations=(2,), verdict="supported")
    # "Radium was discovered by Marie and Pierre Curie." has the content words of DISCOVERED: Jaccard 1
    near = Statement(text="Radium was discovered by Marie and Pierre Curie.", raw="", citations=(1,))
    for st in (same, near):
        statements, added = with_quotes([st], _selection(DISCOVERED, GLOW), words=100)
        assert added == 1 and [s.text for s in statements] == [st.text, GLOW]
    # at duplicate_overlap 0.5 the answer above (Jaccard 0.5 with DISCOVERED) counts as a repeat too
    statements, _ = with_quotes([ANSWER], _selection(DISCOVERED, GLOW), words=100, duplicate_overlap=0.5)
    assert [s.text for s in statements] == [ANSWER.text, GLOW]


def test_with_quotes_skips_a_sentence_that_retells_one_already_in_the_answer() -> None:
    video = (
        "Featuring Winehouse making her way down Hollywood Blvd and in a dim motel room, "
        "the video features the Grand Motel."
    )
    retold = "The clip features footage of Winehouse making her way down Hollywood Blvd and in a dim motel room."
    first = Statement(text=video, raw=f"{video[:-1]} [1].", citations=(1,), verdict="supported")
    # retold: 12 content words, 10 of them in video (clip and footage are not); Jaccard 10/15 < 0.7
    statements, added = with_quotes([first], _selection(retold, GLOW), words=100)
    assert added == 1 and [s.text for s in statements] == [video, GLOW]
    # a sentence that says the same but for a year adds the year: it is quoted
    # (4 of its 5 content words are in won, Jaccard 4 / 9, but the fifth is 1940)
    won = Statement(text="The Rangers won the Stanley Cup in the 1994 season, beating Vancouver.", raw="")
    again = "The Rangers won the Stanley Cup in 1940."
    statements, added = with_quotes([won], _selection(again), words=100)
    assert added == 1 and statements[-1].text == again


def test_quote_words_must_not_be_negative() -> None:
    with pytest.raises(RagError, match="quote_words"):
        _hand(quote_words=-1)


def test_fragments_where_a_passage_was_cut_are_never_evidence() -> None:
    # a passage cut out of longer text: it starts mid-sentence and ends mid-sentence
    cut = Passage(
        "cut", f"was discovered in a shed by the couple. {YEAR} Radium was discovered by Marie Curie and", "Radium"
    )
    selection = select_evidence(QUESTION, [cut], config=_hand(rank_weight=0.0, keep_ratio=0.0))
    assert _texts(selection) == [YEAR]
    # only fragments: they show the passage is on topic (relevance 0.5: radium and discovered)
    # but nothing can be quoted, so the passages do not answer
    only = Passage("only", "was discovered in a shed. Radium was discovered by Marie Curie and", "Radium")
    none = select_evidence(QUESTION, [only], config=_hand(rank_weight=0.0, min_relevance=0.1))
    assert (none.evidence, none.answered, none.relevance) == ((), False, pytest.approx(0.5))
    assert is_fragment("was discovered in a shed.") and is_fragment("Radium was discovered by")
    assert not is_fragment(YEAR) and not is_fragment('"Radium" glows.')
    # the rest of a sentence cut at the passage's start, behind a bracket or quote
    assert is_fragment("(by the President) to either house of Parliament are referred to as MPs.")
    assert is_fragment('"the song was a hit," he said.') and not is_fragment("(Radium) was found in 1898.")


def test_a_sentence_cut_at_the_passage_start_behind_a_capitalised_name_is_not_evidence() -> None:
    question = "Who played Gaston in Beauty and the Beast?"
    cast = "Beast, Ben Harlow as Gaston, and Susan Egan as Belle starred in the show."
    film = "Luke Evans played Gaston in the 2017 film."
    musical = Passage("m", f"{cast} {film} Beast, the prince, is cursed.", "Beauty and the Beast (musical)")
    cands = candidate_evidence([musical], 4)
    assert [cut_at_start(c, musical) for c in cands] == [True, False, False]  # only the first piece
    selection = select_evidence(question, [musical], config=_hand(keep_ratio=0.0))
    assert cast not in _texts(selection) and film in _texts(selection)
    # an article's own opening, and a sentence adverb, are whole sentences
    article = Passage("a", "Phidias, or Pheidias (about 480-430 BC) was a Greek sculptor who made a statue.", "Phidias")
    adverb = Passage("b", "However, Ben Harlow played Gaston on Broadway in 1994.", "Ben Harlow")
    ly = Passage("c", "Musically, the show follows the 1991 film closely.", "Beauty and the Beast (musical)")
    # an appositive closed by a comma and a verb: the sentence goes on
    appositive = Passage("d", "Leucippus, the founder of atomism, was the greatest influence upon him.", "Democritus")
    for passage in (article, adverb, ly, appositive):
        assert not cut_at_start(candidate_evidence([passage], 4)[0], passage)
    # a relative clause after the name, or an appositive going on with no verb: cut
    relative = Passage("e", "Roode, who defeated Jinder Mahal in the final on January 16, 2018.", "Clash of Champions")
    listed = Passage("f", "Mehta, the leader of the Congress, in April 1913, which played a part.", "Bombay")
    for passage in (relative, listed):
        assert cut_at_start(candidate_evidence([passage], 4)[0], passage)


def test_the_rank_prior_prefers_better_retrieved_passages_and_leaves_the_gate_alone() -> None:
    # Lexically: YEAR has radium and discovered (1.0) and a year (+0.1): 0.6; REPEAT 0.5 and no
    # year: 0.5. With REPEAT's passage retrieved first and rank_weight 0.3: REPEAT 0.5 + 0.3 / 1 =
    # 0.8, YEAR 0.6 + 0.3 / 2 = 0.75, so REPEAT comes first; relevance (the gate) stays 0.6.
    cfg = _hand(rank_weight=0.3, keep_ratio=0.0)
    selection = select_evidence(QUESTION, TWO, config=cfg)
    assert [(e.text, e.score) for e in selection.evidence[:2]] == [
        (REPEAT, pytest.approx(0.8)),
        (YEAR, pytest.approx(0.75)),
    ]
    assert selection.relevance == pytest.approx(0.6)
    assert select_evidence(QUESTION, TWO, config=RELEVANCE).evidence[0].text == YEAR
    with pytest.raises(RagError, match="rank_weight"):
        _hand(rank_weight=-0.1)


def test_quotes_lose_the_footnote_markers_of_the_page_they_come_from() -> None:
    marked = "Radium was discovered,[5][6] by Marie Curie and Pierre Curie.[a]"
    statements, added = with_quotes([], _selection(marked), words=50)
    assert added == 1
    assert [(st.text, st.raw, st.citations) for st in statements] == [
        (
            "Radium was discovered, by Marie Curie and Pierre Curie.",
            "Radium was discovered, by Marie Curie and Pierre Curie [1].",
            (1,),
        )
    ]
    assert without_footnotes("Radium [citation needed] glows [note 2].") == "Radium glows."


def test_quotes_skip_a_sentence_that_opens_on_a_pronoun() -> None:
    she = "She coined the word radioactivity in a paper of 1898."
    statements, added = with_quotes([], _selection(she, DISCOVERED), words=50)
    assert added == 1 and [st.text for st in statements] == [DISCOVERED]
    assert leans_back('"It was found," he said.') and not leans_back("Itself a metal, radium glows.")


def _pieces(title: str, text: str) -> list[str]:
    """Every quotable piece of every sentence, checked to be the passage's own characters."""
    from rag.citing.citations import sentence_spans

    passage = Passage("p", text, title)
    out = []
    for span in sentence_spans(text):
        for start, end in clean_spans(passage, *span):
            out.append(text[start:end])
    return out


def test_a_title_repeated_as_a_heading_is_not_quoted() -> None:
    # at the passage's start, and where a new page starts inside a passage
    text = (
        "Robert Koch Heinrich Hermann Robert Koch was a German physician. He won a prize. "
        "Robert Koch Robert Koch discovered the anthrax bacillus."
    )
    assert _pieces("Robert Koch", text) == [
        "Heinrich Hermann Robert Koch was a German physician.",
        "He won a prize.",
        "Robert Koch discovered the anthrax bacillus.",
    ]
    # a title that begins the sentence is part of it: the text after it does not open a sentence,
    # or does not name the title again
    assert title_heading("Paris Hilton", "Paris Hilton is an American media personality.") == 0
    assert title_heading("Paris", "Paris Hilton is an American media personality.") == 0
    assert title_heading("Paris", "Paris Paris is the capital of France.") == len("Paris ")
    assert title_heading("", "Paris is the capital.") == 0


def test_wiki_headings_split_sentences_and_are_never_quoted() -> None:
    text = (
        "It has a home button. == 3G version == On June 9, 2008, Apple announced a 3G version. "
        "Early life === He was born in Ulm in 1879."
    )
    assert _pieces("iPhone", text) == [
        "It has a home button.",
        "On June 9, 2008, Apple announced a 3G version.",
        "Early life",
        "He was born in Ulm in 1879.",
    ]


def test_markup_is_cut_from_a_sentence_start_and_a_sentence_holding_more_is_dropped() -> None:
    text = (
        "200px|right The Alliance Party is a liberal party. <onlyinclude></onlyinclude> On Friday it won. "
        'The schedule was released in June.<ref name="x"/> Fans cheered. Tables use | as a separator.'
    )
    # image options with a caption: the caption's first word is left, so the rest is a fragment
    assert _pieces("Armour", "thumb|300px|16th century armour Armour is a protective covering.") == [
        "century armour Armour is a protective covering."
    ]
    # punkt does not split after the tag, so "Fans cheered." goes with the sentence holding it
    assert _pieces("Alliance Party", text) == ["The Alliance Party is a liberal party.", "On Friday it won."]


def test_evidence_from_a_page_with_a_heading_and_markup_points_at_its_own_characters() -> None:
    passage = Passage(
        "p",
        "Radium Radium was discovered by Marie Curie in 1898. == Uses == alt=|right Radium was used in paint.",
        "Radium",
    )
    selection = select_evidence(QUESTION, [passage], config=_hand(keep_ratio=0.0, per_passage=2))
    assert sorted(e.text for e in selection.evidence) == [
        "Radium was discovered by Marie Curie in 1898.",
        "Radium was used in paint.",
    ]
    assert all(passage.text[e.start : e.end] == e.text for e in selection.evidence)


@pytest.mark.parametrize(
    ("sentence", "fragment"),
    [
        ("5/1976) and Denise Welch (No.", True),  # a closing bracket first
        ("Toilet: Ek Prem Katha (transl.", True),  # an opening one never closed
        ("It was Springfield's only British No.", True),  # punkt split "No. 1"
        ("The events take place between Shinobi 20 and 21. was released in Japan in 2016.", True),
        ("Radium (Ra) was discovered in 1898 (by the Curies).", False),
        ("No one saw it happen in 1898.", False),
        ("He won in 2004. The next year he lost.", False),  # a capital after the number: not glued
        ("(), is a South Korean television series.", True),  # a name in another script cut out
        ('2" aired on SBS from 2016 to 2017.', True),  # the end of a quoted title
        (", is a feature film released in 2016.", True),
        ('", sung by Vanessa Williams, was written by David Foster.', True),
        ("(Buena Vista Street), Anaheim's Downtown Disney, and Disney Village.", True),
        ("(Radium) was found in 1898.", False),
    ],
)
def test_what_punkts_mistakes_leave_is_a_fragment(sentence: str, fragment: bool) -> None:
    assert is_fragment(sentence) is fragment


def test_a_sentence_punkt_splits_after_no_is_one_piece_of_evidence() -> None:
    text = 'It was her only British No. 1 hit, "You Don\'t Have to Say You Love Me". She sang it in 1966.'
    passage = Passage("p", text, "Dusty Springfield")
    selection = select_evidence("Who sang You Don't Have to Say You Love Me?", [passage], config=_hand(keep_ratio=0.0))
    assert [e.text for e in selection.evidence] == [
        'It was her only British No. 1 hit, "You Don\'t Have to Say You Love Me".',
        "She sang it in 1966.",
    ]
    assert all(text[e.start : e.end] == e.text for e in selection.evidence)
    assert is_fragment("The events take place between Shinobi 42 and 43. , is a feature film.")


def test_a_title_repeated_in_quotes_or_after_a_line_break_is_cut_every_time() -> None:
    title = "Give Me a Home Among the Gumtrees"
    text = (
        f'"{title} " {title} {title} (or Home Among the Gumtrees) is an Australian song written in 1974. '
        f"{title}\n{title} was first recorded in 1975."
    )
    assert _pieces(title, text) == [
        f"{title} (or Home Among the Gumtrees) is an Australian song written in 1974.",
        f"{title} was first recorded in 1975.",
    ]
    # a quoted title that the sentence goes on about is a heading; one it does not name again is not
    assert title_heading("Radium", '"Radium" Radium is a metal.') == len('"Radium" ')
    assert title_heading("Radium", '"Radium" is a song.') == 0
    # a title followed by a sentence that opens on "The": a heading, though the sentence does
    # not name the title again
    title = "United States hydrogen policy"
    sentence = f"{title} The principle of a fuel cell was discovered in 1838."
    assert sentence[title_heading(title, sentence) :] == "The principle of a fuel cell was discovered in 1838."
    assert title_heading("Anne", "Anne The Queen was crowned.") == len("Anne ")
    assert title_heading("Anne", "Anne Boleyn was crowned.") == 0
    assert title_heading("Hepatitis", "Hepatitis A is a liver disease.") == 0


def test_list_items_are_pieces_of_their_own_without_their_markers() -> None:
    text = (
        "The main events were these: * John Cena beat AJ Styles for the WWE Championship. "
        '== Track listing == #"This Is Me... Now" #"To Be Yours" # "Mad in Love" The album reached #1 in May.'
    )
    assert _pieces("Events", text) == [
        "The main events were these:",
        "John Cena beat AJ Styles for the WWE Championship.",
        '"This Is Me... Now"',
        '"To Be Yours"',
        '"Mad in Love" The album reached #1 in May.',
    ]


def test_a_sentence_punkt_splits_after_mt_is_one_piece_of_evidence() -> None:
    text = "Into Thin Air: A Personal Account of the Mt. Everest Disaster is a 1997 book. It sold well."
    passage = Passage("p", text, "Into Thin Air")
    selection = select_evidence("Who wrote Into Thin Air?", [passage], config=_hand(keep_ratio=0.0))
    assert selection.evidence[0].text == (
        "Into Thin Air: A Personal Account of the Mt. Everest Disaster is a 1997 book."
    )
    assert is_fragment("It is a personal account of the Mt.") and not is_fragment("He climbed Everest.")


def test_a_line_break_ends_a_piece() -> None:
    # a new page inside a passage ("Gamora\nevent …" is the rest of a cut sentence, so a fragment),
    # and a list of roles, one a line
    text = (
        "Gamora first appeared in 1975. Gamora\nevent, and became a member of the team. "
        "Park Hye-su (season 1) as Yoo Eun-jae\nA 20-year-old student who comes to the house."
    )
    assert _pieces("Gamora", text) == [
        "Gamora first appeared in 1975.",
        "Gamora",
        "event, and became a member of the team.",
        "Park Hye-su (season 1) as Yoo Eun-jae",
        "A 20-year-old student who comes to the house.",
    ]
    evidence = select_evidence(
        "Who plays Gamora?", [Passage("p", text, "Gamora")], config=_hand(keep_ratio=0.0, per_passage=4)
    ).evidence
    # the cut piece is never evidence; the role, a whole line of a list, can be
    assert sorted(e.text for e in evidence) == [
        "A 20-year-old student who comes to the house.",
        "Gamora first appeared in 1975.",
        "Park Hye-su (season 1) as Yoo Eun-jae",
    ]


# ---------------------------------------------------------------- the learned scorer


def _features(embed: BowEmbedder, lexical: Sequence[float] = (0.1, 0.2, 0.3, 0.4)) -> np.ndarray:
    cands = candidate_evidence(TWO, 5)
    both = embed.encode([QUESTION, *(c.text for c in cands), *titled(TWO, cands)])
    vectors, title_vectors = both[: len(cands) + 1], both[len(cands) + 1 :]
    return sentence_features(QUESTION, TWO, cands, vectors[1:] @ vectors[0], lexical, title_vectors @ vectors[0])


def test_candidates_are_every_whole_piece_in_passage_order() -> None:
    assert [(c.passage, c.text) for c in candidate_evidence(TWO, 5)] == [
        (1, REPEAT),
        (1, GLOW),
        (2, YEAR),
        (2, SHED),
    ]


def test_sentence_features_by_hand(embed: BowEmbedder) -> None:
    rows = {name: col for name, col in zip(FEATURE_NAMES, _features(embed).T, strict=True)}
    # cosines (content-word sets): REPEAT and YEAR hold both of the question's 2 words among 4,
    # GLOW holds 1 of 5, SHED none
    cos = [COS_2_OF_4, 1 / math.sqrt(2 * 5), COS_2_OF_4, 0.0]
    assert rows["cosine"] == pytest.approx(cos)
    # read with the title: "Radium: …" adds no word to REPEAT or GLOW; "Curie: …" adds "curie" to
    # YEAR (2 of 5 words) and to SHED (still none of the question's)
    assert rows["title_cosine"] == pytest.approx([COS_2_OF_4, cos[1], 2 / math.sqrt(2 * 5), 0.0])
    assert rows["lexical"].tolist() == [0.1, 0.2, 0.3, 0.4]  # passed through
    assert rows["type_match"].tolist() == [0, 0, 1, 0]  # only YEAR holds a date
    assert rows["rank_prior"].tolist() == [1, 1, 0.5, 0.5]
    assert rows["first_piece"].tolist() == [1, 0, 1, 0]
    assert rows["log_words"] == pytest.approx([math.log(7), math.log(7), math.log(6), math.log(8)])
    # capitalised words after the first that the question does not hold: "December"; "Curies", "Paris"
    assert rows["new_names"] == pytest.approx([0, 0, math.log(2), math.log(3)])
    assert rows["new_numbers"] == pytest.approx([0, 0, math.log(2), 0])  # 1898
    # the title "Radium" holds one of the question's two content words, "Curie" none
    assert rows["title_overlap"].tolist() == [0.5, 0.5, 0, 0]
    assert rows["passage_cosine"] == pytest.approx([COS_2_OF_4] * 4)
    assert rows["cosine_gap"] == pytest.approx([0, COS_2_OF_4 - cos[1], 0, COS_2_OF_4])
    assert rows["leans_back"].tolist() == [0, 0, 0, 0]
    # a "when" question: only the date columns are set
    assert rows["date_question"].tolist() == [1, 1, 1, 1]
    assert rows["date_type_match"].tolist() == rows["type_match"].tolist()
    assert rows["date_new_names"] == pytest.approx(rows["new_names"])
    assert rows["date_new_numbers"] == pytest.approx(rows["new_numbers"])
    for kind in ("person", "place", "number", "other"):
        for name in ("question", "type_match", "new_names", "new_numbers"):
            assert rows[f"{kind}_{name}"].tolist() == [0, 0, 0, 0]


def test_the_learned_weights_cover_every_feature() -> None:
    assert set(LEARNED_WEIGHTS) == set(FEATURE_NAMES)


def test_learned_scores_are_the_linear_model(embed: BowEmbedder) -> None:
    x = _features(embed)
    by_hand = [LEARNED_BIAS + sum(LEARNED_WEIGHTS[n] * v for n, v in zip(FEATURE_NAMES, row, strict=True)) for row in x]
    assert learned_scores(x) == pytest.approx(by_hand)


def test_learned_eligible_keeps_whole_sentences_above_the_floor() -> None:
    floor = math.log(0.05 / 0.95)
    scores = [floor + 0.01, floor - 0.01, 3.0, floor + 1.0]
    assert learned_eligible(scores, [True, True, False, True], 0.05) == [True, False, False, True]
    # none above the floor: the best whole one, so an answered question keeps evidence
    assert learned_eligible([-9.0, -7.0, 5.0], [True, True, False], 0.05) == [False, True, False]
    assert learned_eligible([-9.0, -7.0], [True, True], 0.0) == [True, True]
    assert learned_eligible([1.0], [False], 0.05) == [False]


def test_the_learned_scorer_chooses_by_its_scores(embed: BowEmbedder) -> None:
    """select_evidence with the learned scorer against the model applied by hand: highest
    log-odds first, none under the probability floor, MMR off."""
    cfg = EvidenceConfig(diversity=0.0, min_probability=0.0)
    selection = select_evidence(QUESTION, TWO, embed=embed.encode, config=cfg)
    scores = learned_scores(_features(embed, lexical_scores(QUESTION, [REPEAT, GLOW, YEAR, SHED])))
    texts = [REPEAT, GLOW, YEAR, SHED]
    expected = [texts[i] for i in np.argsort(-scores, kind="stable")]
    assert _texts(selection) == expected
    assert [e.score for e in selection.evidence] == pytest.approx(sorted(scores, reverse=True))
    # the gate still reads relevance (cosine + lexical + type), not the learned score
    assert selection.relevance == pytest.approx(COS_2_OF_4 + 0.5 + 0.1)
    floor = math.log(0.5 / 0.5)
    above = [t for t, s in zip(texts, scores, strict=True) if s >= floor]
    kept = select_evidence(QUESTION, TWO, embed=embed.encode, config=EvidenceConfig(diversity=0.0, min_probability=0.5))
    assert _texts(kept) == ([t for t in expected if t in above] or expected[:1])


@pytest.mark.parametrize("with_embedder", [False, True])
def test_the_learned_scorer_prefers_the_answer_and_skips_a_duplicate(embed: BowEmbedder, with_embedder: bool) -> None:
    """On a plain case the real weights rank the sentence that names the author first, and a
    near-copy of it is not chosen again (with or without an embedder)."""
    answer = "Dracula is an 1897 Gothic horror novel by Irish author Bram Stoker."
    copy = "Dracula is an 1897 Gothic horror novel by the Irish author Bram Stoker."
    other = "The story is told in letters and diary entries."
    passages = [Passage("a", f"{answer} {other}", "Dracula"), Passage("b", copy, "Dracula (novel)")]
    fn = embed.encode if with_embedder else None
    selection = select_evidence("Who wrote the novel Dracula?", passages, embed=fn, config=EvidenceConfig())
    assert _texts(selection)[0] == answer
    assert copy not in _texts(selection)


def test_the_generator_sees_the_first_prompt_sentences() -> None:
    selection = EvidenceSelection(
        (Evidence(2, 0, len(YEAR), YEAR, 1.0), Evidence(1, 0, len(REPEAT), REPEAT, 0.5)), 1.0, True
    )
    reduced, numbers = evidence_passages(TWO, selection, limit=1)
    assert numbers == [2] and [p.text for p in reduced] == [YEAR]
    reduced, numbers = evidence_passages(TWO, selection)
    assert numbers == [1, 2] and [p.text for p in reduced] == [REPEAT, YEAR]


@pytest.mark.parametrize(
    "kwargs", [{"scorer": "best"}, {"min_probability": 1.0}, {"min_probability": -0.1}, {"prompt_sentences": 0}]
)
def test_bad_learned_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(RagError):
        EvidenceConfig(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- list lines and the reader


RECORDS = Passage(
    "records",
    "Premier League records.\nMost own goals: 10, Richard Dunne\nThe leaders were:\nMost in a season: 4",
    "Premier League records",
)


def test_a_list_line_is_whole_but_a_leading_line_or_the_last_one_is_not() -> None:
    by_text = {c.text: c for c in candidate_evidence([RECORDS], 3)}
    line = by_text["Most own goals: 10, Richard Dunne"]
    assert is_fragment(line.text)  # no full stop: a fragment by the sentence rules alone
    assert is_list_line(line, RECORDS) and is_whole(line, RECORDS)
    leading = by_text["The leaders were:"]  # leads into the next line
    assert not is_list_line(leading, RECORDS) and not is_whole(leading, RECORDS)
    last = by_text["Most in a season: 4"]  # the passage ends there: it may be cut
    assert not is_list_line(last, RECORDS) and not is_whole(last, RECORDS)
    sentence = by_text["Premier League records."]
    assert is_whole(sentence, RECORDS)  # a sentence, whatever follows it
    lower = Passage("x", "Records kept\nand most own goals: 10, Richard Dunne\nEnd.", "x")
    assert not any(is_list_line(c, lower) for c in candidate_evidence([lower], 3) if c.text.startswith("and"))


def test_the_answer_on_a_list_line_can_be_evidence(embed: BowEmbedder) -> None:
    selection = select_evidence(
        "Who scored the most own goals?", [RECORDS], embed=embed.encode, config=EvidenceConfig()
    )
    assert "Most own goals: 10, Richard Dunne" in _texts(selection)
    assert "The leaders were:" not in _texts(selection)


def test_answer_pieces_leave_out_what_the_question_says_and_long_replies() -> None:
    question = "Who played Alice in A League of Their Own?"
    assert answer_pieces(question, "Renée Coleman; Alice; A League of Their Own") == {"renée coleman"}
    assert answer_pieces(question, "it is said that she was played by an actress whose name is unknown") == set()
    assert answer_pieces(question, "") == set()
    assert holds_answer({"renée coleman"}, ["Renée Coleman – Alice", "Renee Coleman"]) == [True, False]
    assert holds_answer(set(), ["anything"]) == [False]


def test_with_reader_is_the_fitted_combination() -> None:
    w = READER_WEIGHTS
    assert with_reader([2.0, -1.0], [True, False]) == pytest.approx(
        [w["scale"] * 2.0 + w["holds"] + w["bias"], -w["scale"] + w["bias"]]
    )
    assert w["holds"] > 0  # holding the reader's answer makes a sentence more likely evidence


def test_the_reader_reads_the_best_candidates_and_lifts_the_sentence_holding_its_answer(embed: BowEmbedder) -> None:
    cfg = EvidenceConfig(diversity=0.0, min_probability=0.0, reader_sentences=2)
    plain = select_evidence(QUESTION, TWO, embed=embed.encode, config=cfg)
    assert plain.reader_answer is None
    asked: list[tuple[str, list[str]]] = []

    def read(question: str, sentences: Sequence[str]) -> str:
        asked.append((question, list(sentences)))
        return "the Curies; radium"  # "radium" is in the question: not an answer

    read_selection = select_evidence(QUESTION, TWO, embed=embed.encode, config=cfg, read=read)
    assert read_selection.reader_answer == "the Curies; radium"
    # shown the two best by the learned score, in that order
    assert asked == [(QUESTION, _texts(plain)[:2])]
    # SHED holds "curies": it gains the reader's weight against the others
    before = {e.text: e.score for e in plain.evidence}
    after = {e.text: e.score for e in read_selection.evidence}
    for text in before:
        expected = with_reader([before[text]], [text == SHED])[0]
        assert after[text] == pytest.approx(expected)
    # the reader is off, or the scorer is the hand-set one: never asked
    asked.clear()
    select_evidence(QUESTION, TWO, embed=embed.encode, config=replace(cfg, reader=False), read=read)
    select_evidence(QUESTION, TWO, embed=embed.encode, config=RELEVANCE, read=read)
    assert asked == []


def test_the_module_examples_hold() -> None:
    """The examples in rag.citing.evidence's docstrings (and the reader prompt's) are run."""
    import doctest

    import rag.citing.evidence
    import rag.generation.prompts

    for module in (rag.citing.evidence, rag.generation.prompts):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


def test_a_quoted_list_line_ends_with_a_full_stop() -> None:
    """A list line has no full stop; quoted, it gets one so the next quote does not run on."""
    selection = EvidenceSelection(
        (
            Evidence(1, 34, 67, "Most own goals: 10, Richard Dunne[109]", 1.0),
            Evidence(1, 0, 23, "Premier League records.", 0.5),
        ),
        1.0,
        True,
    )
    statements, added = with_quotes([], selection, 80)
    assert added == 2
    assert [st.text for st in statements] == ["Most own goals: 10, Richard Dunne.", "Premier League records."]
    assert as_quote('He said "stop."') == 'He said "stop."'
    assert as_quote("Lewis Dunk (Brighton & Hove Albion, 2017–18)") == "Lewis Dunk (Brighton & Hove Albion, 2017–18)."
