"""rag.evidence.choice: choose_evidence (maximal marginal relevance, the per-passage and total
limits, near-duplicates) and select_evidence (the learned scorer, the reader, the relevance gate),
and the passages cut to their evidence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from rag.evidence import (
    Evidence,
    EvidenceConfig,
    EvidenceSelection,
    choose_evidence,
    evidence_passages,
    learned_scores,
    lexical_scores,
    select_evidence,
    with_reader,
)
from rag.text import content_words
from rag.types import Passage

from .cases import (
    ALL,
    ANSWERING,
    COS_2_OF_4,
    GLOW,
    QUESTION,
    QUESTION_ASKED,
    RECORDS,
    REPEAT,
    SHED,
    TWO,
    YEAR,
    features,
    texts,
)

if TYPE_CHECKING:
    from conftest import BowEmbedder


@pytest.fixture
def embed(bow_embedder: type[BowEmbedder]) -> BowEmbedder:
    return bow_embedder()


def test_the_embedder_is_asked_once_with_the_question_first(embed: BowEmbedder) -> None:
    # each sentence alone and read with its title, in the same call
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
        # every whole sentence may be chosen: only the duplicate rule is left
        selection = select_evidence(QUESTION, passages, embed=fn, config=ALL)
        chosen = texts(selection)
        assert chosen.count(YEAR) == 1
        assert "The Curies discovered radium in December 1898." not in chosen
        assert chosen == [YEAR, "Marie Curie named the new element radium.", "It glows in the dark when pure."]
        assert selection.evidence[0].passage == 1  # the first copy, in passage order


def test_duplicate_overlap_decides_what_a_near_copy_is() -> None:
    passages = [Passage("a", YEAR), Passage("c", "The Curies discovered radium in December 1898.")]
    # Jaccard 0.8: a duplicate under 0.7 (the default), and not under 0.9
    cfg = ALL
    assert len(select_evidence(QUESTION, passages, config=cfg).evidence) == 1
    cfg = replace(ALL, duplicate_overlap=0.9)
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
    cfg = replace(ALL, max_sentences=max_sentences, per_passage=per_passage)
    selection = select_evidence(QUESTION, MANY, embed=embed.encode if with_embed else None, config=cfg)
    counts = [sum(e.passage == n for e in selection.evidence) for n in (1, 2, 3)]
    assert max(counts) <= per_passage
    assert len(selection.evidence) == min(max_sentences, sum(min(per_passage, c) for c in (4, 2, 2)))
    assert len({e.text for e in selection.evidence}) == len(selection.evidence)


# ---------------------------------------------------------------- not answered


OFF_TOPIC = [
    Passage("banana", "Bananas grow well in warm tropical climates."),
    Passage("tower", "The Eiffel Tower opened to visitors in 1889."),
]


def test_off_topic_passages_are_not_an_answer(embed: BowEmbedder) -> None:
    # no content word shared with the question: cosine 0 and lexical 0; the tower sentence holds
    # a year (+0.1): best 0.1 < min_relevance 0.55
    selection = select_evidence(QUESTION, OFF_TOPIC, embed=embed.encode, config=EvidenceConfig())
    assert selection.relevance == pytest.approx(0.1)
    assert not selection.answered
    # the threshold is inclusive: at 0.1 the tower sentence answers
    lower = select_evidence(QUESTION, OFF_TOPIC, embed=embed.encode, config=EvidenceConfig(min_relevance=0.1))
    assert lower.answered
    # neither sentence is above the probability floor: the better one alone is kept
    assert texts(lower) == ["The Eiffel Tower opened to visitors in 1889."]


def test_min_relevance_gate_on_topical_passages(embed: BowEmbedder) -> None:
    best = COS_2_OF_4 + 0.6
    assert select_evidence(QUESTION, TWO, embed=embed.encode, config=EvidenceConfig(min_relevance=best)).answered
    assert not select_evidence(
        QUESTION, TWO, embed=embed.encode, config=EvidenceConfig(min_relevance=best + 1e-6)
    ).answered


# ---------------------------------------------------------------- MMR


# choose_evidence on scores given by hand: each sentence scores its cosine to the question
# (1, 0, 0). FIRST (0.8, 0.6, 0) and ECHO (0.8, 0.6, 0) score 0.8 and are the same direction
# (similarity 1, though they share no content word); OTHER (0.6, 0, 0.8) scores 0.6, similarity
# 0.48 to FIRST.
FIRST = "Alpha bravo charlie delta echo."
ECHO = "Foxtrot golf hotel india juliet."
OTHER = "Kilo lima mike november oscar."
VECTORS = {"q": (1.0, 0.0, 0.0), FIRST: (0.8, 0.6, 0.0), ECHO: (0.8, 0.6, 0.0), OTHER: (0.6, 0.0, 0.8)}


@pytest.mark.parametrize(
    ("diversity", "order"),
    [
        (0.0, [FIRST, ECHO, OTHER]),  # plain score order (ties in passage order)
        # after FIRST: ECHO 0.8 - 0.5 * 1 = 0.3, OTHER 0.6 - 0.5 * 0.48 = 0.36: OTHER first
        (0.5, [FIRST, OTHER, ECHO]),
    ],
)
def test_mmr_prefers_a_different_sentence(diversity: float, order: list[str]) -> None:
    sentences = [FIRST, ECHO, OTHER]
    vectors = np.array([VECTORS[t] for t in sentences])
    scores = vectors @ np.array(VECTORS["q"])
    assert scores.tolist() == pytest.approx([0.8, 0.8, 0.6])
    bags = [content_words(t) for t in sentences]
    chosen = choose_evidence(
        scores, [1, 2, 3], vectors @ vectors.T, bags, [True] * 3, EvidenceConfig(diversity=diversity)
    )
    assert [sentences[i] for i in chosen] == order


def test_choose_evidence_keeps_the_limits_and_skips_duplicates_and_the_ineligible() -> None:
    # by score: 0 and 1 (passage 1, sharing 2 of 3 content words), 2 (passage 1 again), 3 (passage 2)
    scores, numbers = [3.0, 2.0, 1.0, 0.5], [1, 1, 1, 2]
    bags = [{"radium", "1898"}, {"radium", "1898", "found"}, {"glows"}, {"shed"}]
    everything = [True] * 4

    def choose(eligible: list[bool] = everything, **settings: object) -> list[int]:
        return choose_evidence(scores, numbers, None, bags, eligible, replace(ALL, **settings))  # type: ignore[arg-type]

    assert choose() == [0, 1, 3]  # 1 shares 2/3 < 0.7 of its words with 0; 2 is passage 1's third
    assert choose(duplicate_overlap=0.6) == [0, 2, 3]  # now 1 repeats 0
    assert choose(per_passage=1) == [0, 3]
    assert choose(max_sentences=1) == [0]
    assert choose([False, True, True, False]) == [1, 2]  # what is not eligible is never chosen
    assert choose([False] * 4) == []


def test_choose_evidence_without_similarities_is_score_order_with_ties_in_candidate_order() -> None:
    bags = [{"a"}, {"b"}, {"c"}]
    assert choose_evidence([1.0, 2.0, 2.0], [1, 2, 3], None, bags, [True] * 3, ALL) == [1, 2, 0]


# ---------------------------------------------------------------- the learned scorer and the reader


def test_the_learned_scorer_chooses_by_its_scores(embed: BowEmbedder) -> None:
    """select_evidence with the learned scorer against the model applied by hand: highest
    log-odds first, none under the probability floor, MMR off."""
    cfg = EvidenceConfig(diversity=0.0, min_probability=0.0)
    selection = select_evidence(QUESTION, TWO, embed=embed.encode, config=cfg)
    scores = learned_scores(features(embed, lexical_scores(QUESTION, [REPEAT, GLOW, YEAR, SHED])))
    sentences = [REPEAT, GLOW, YEAR, SHED]
    expected = [sentences[i] for i in np.argsort(-scores, kind="stable")]
    assert texts(selection) == expected
    assert [e.score for e in selection.evidence] == pytest.approx(sorted(scores, reverse=True))
    # the gate still reads relevance (cosine + lexical + type), not the learned score
    assert selection.relevance == pytest.approx(COS_2_OF_4 + 0.5 + 0.1)
    floor = math.log(0.5 / 0.5)
    above = [t for t, s in zip(sentences, scores, strict=True) if s >= floor]
    kept = select_evidence(QUESTION, TWO, embed=embed.encode, config=EvidenceConfig(diversity=0.0, min_probability=0.5))
    assert texts(kept) == ([t for t in expected if t in above] or expected[:1])


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
    assert texts(selection)[0] == answer
    assert copy not in texts(selection)


def test_the_answer_on_a_list_line_can_be_evidence(embed: BowEmbedder) -> None:
    selection = select_evidence(
        "Who scored the most own goals?", [RECORDS], embed=embed.encode, config=EvidenceConfig()
    )
    assert "Most own goals: 10, Richard Dunne" in texts(selection)
    assert "The leaders were:" not in texts(selection)


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
    assert asked == [(QUESTION, texts(plain)[:2])]
    # SHED holds "curies": it gains the reader's weight against the others
    before = {e.text: e.score for e in plain.evidence}
    after = {e.text: e.score for e in read_selection.evidence}
    for text in before:
        expected = with_reader([before[text]], [text == SHED])[0]
        assert after[text] == pytest.approx(expected)
    # the reader is off: never asked
    asked.clear()
    select_evidence(QUESTION, TWO, embed=embed.encode, config=replace(cfg, reader=False), read=read)
    assert asked == []


# ---------------------------------------------------------------- the reduced passages


def test_evidence_passages_keep_text_order_and_numbers(embed: BowEmbedder) -> None:
    passages = [Passage("off", "Bananas grow well in warm tropical climates.", "Fruit"), *TWO]
    selection = select_evidence(QUESTION, passages, embed=embed.encode, config=ALL)
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


def test_the_generator_sees_the_first_prompt_sentences() -> None:
    selection = EvidenceSelection(
        (Evidence(2, 0, len(YEAR), YEAR, 1.0), Evidence(1, 0, len(REPEAT), REPEAT, 0.5)), 1.0, True
    )
    reduced, numbers = evidence_passages(TWO, selection, limit=1)
    assert numbers == [2] and [p.text for p in reduced] == [YEAR]
    reduced, numbers = evidence_passages(TWO, selection)
    assert numbers == [1, 2] and [p.text for p in reduced] == [REPEAT, YEAR]
