"""rag.citing.attribution: post-hoc attribution with scripted judges (no model): the smallest
supporting set, the pre-selection, quotes, renumbering, the quote fallback; and where a statement's
supporting sentence lies (support_spans) and citations mapped back to the given passages (remap)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pytest

from rag.citing.attribution import (
    AttributionConfig,
    attribute,
    code_quoted,
    drop_unsupported,
    overlap,
    quote_coverage,
    quote_fallback,
    rank_candidates,
    remap,
    render,
    renumber,
    support_spans,
    with_markers,
)
from rag.citing.citations import parse_answer
from rag.types import Passage, Statement, Support

if TYPE_CHECKING:
    from conftest import RuleJudge


PASSAGES = [
    Passage("p1", "The bridge was designed by Anna Berg.", "Bridge"),
    Passage("p2", "It opened in 1937 after four years of work.", "Bridge history"),
    Passage("p3", "The bridge, designed by Anna Berg, opened in 1937.", "Bridge facts"),
    Passage("p4", "Honeybees live in colonies.", "Bees"),
    Passage("p5", "Tea was first drunk in China.", "Tea"),
]


def st(text: str, citations: tuple[int, ...] = ()) -> Statement:
    return Statement(text=text, raw=with_markers(text, citations), citations=citations)


DESIGNED = "The bridge was designed by Anna Berg and opened in 1937."


BEES = "Honeybees live in colonies."


MOON = "The moon is made of cheese."


def test_minimal_set_prefers_one_passage_over_a_pair(rule_judge: type[RuleJudge]) -> None:
    # p3 alone states it; p1 + p2 together state it too: the single passage wins
    judge = rule_judge({DESIGNED: [["Anna Berg, opened in 1937"], ["designed by Anna Berg.", "opened in 1937 after"]]})
    att = attribute([st(DESIGNED, (1,))], PASSAGES, judge)
    assert att.statements[0].citations == (3,)
    assert att.statements[0].verdict == "supported"


def test_pair_when_no_single_passage_supports(rule_judge: type[RuleJudge]) -> None:
    judge = rule_judge({DESIGNED: [["designed by Anna Berg.", "opened in 1937 after"]]})
    att = attribute([st(DESIGNED)], PASSAGES, judge, config=AttributionConfig(candidates=3, max_set=2))
    assert att.statements[0].citations == (1, 2)
    # sizes are tried smallest first: three singles, then the pairs up to the supporting one
    assert att.judge_pairs == len(judge.asked) == 3 + 3


@pytest.mark.parametrize("batched", [False, True])
def test_a_judge_asked_one_set_at_a_time_stops_at_the_first_accepted(
    rule_judge: type[RuleJudge], batched: bool
) -> None:
    # p1 and p3 each state the design: whichever ranks first is the set found, in either mode
    designed = "The bridge was designed by Anna Berg."
    rule = {designed: [["designed by Anna Berg"]]}
    judge = rule_judge(rule)
    judge.batched = batched
    att = attribute([st(designed)], PASSAGES, judge, config=AttributionConfig(candidates=3, quotes=False))
    assert att.statements[0].citations in {(1,), (3,)}
    if batched:
        # the three singles in one batch
        assert [len(b) for b in judge.batches] == [3] and att.judge_pairs == 3
    else:
        # one pair a batch, and none after the first accepted
        assert all(len(b) == 1 for b in judge.batches) and att.judge_pairs == len(judge.asked) == 1
    other = rule_judge(rule)
    other.batched = not batched
    again = attribute([st(designed)], PASSAGES, other, config=AttributionConfig(candidates=3, quotes=False))
    assert again.statements == att.statements


def test_unsupported_statement_is_marked_and_loses_its_citations(rule_judge: type[RuleJudge]) -> None:
    judge = rule_judge({BEES: [["Honeybees live in colonies"]]})
    att = attribute([st(MOON, (4,)), st(BEES, (5,))], PASSAGES, judge)
    moon, bees = att.statements
    assert moon.verdict == "unsupported" and moon.citations == ()
    assert bees.verdict == "supported" and bees.citations == (4,)
    assert att.text == "The moon is made of cheese. Honeybees live in colonies [4]."
    assert att.supported == 1 and att.support_rate == 0.5
    assert drop_unsupported(att.statements) == (bees,)


def test_judge_sees_only_preselected_candidates(rule_judge: type[RuleJudge]) -> None:
    judge = rule_judge({})
    attribute([st(BEES)], PASSAGES, judge, config=AttributionConfig(candidates=2, max_set=1, quotes=False))
    # only the two best candidates by word overlap were put to the judge, alone
    assert len(judge.asked) == 2
    assert any("Honeybees" in premise for premise, _ in judge.asked)
    assert not any("Tea was" in premise for premise, _ in judge.asked)


def test_preselection_uses_embeddings_overlap_and_own_citations() -> None:
    assert overlap("Honeybees live in colonies.", PASSAGES[3]) == 1.0
    assert overlap("the of and", PASSAGES[0]) == 0.0
    ranked = rank_candidates(st(BEES), PASSAGES)
    assert ranked[0] == 4 and sorted(ranked) == [1, 2, 3, 4, 5]
    # a strong similarity moves a passage up; the model's own citation breaks ties
    sims = [0.0, 0.0, 0.0, 0.0, 2.0]
    assert rank_candidates(st(BEES), PASSAGES, sims)[0] == 5
    assert rank_candidates(st("Nothing matches here.", (2,)), PASSAGES)[0] == 2


def test_attribute_calls_the_embedding_function(rule_judge: type[RuleJudge]) -> None:
    calls: list[int] = []

    def embed(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        # passage 5 is the nearest to every statement
        vecs = np.zeros((len(texts), 2), dtype=np.float32)
        vecs[:, 0] = 1.0
        vecs[-1] = [10.0, 0.0]
        return vecs

    judge = rule_judge({BEES: [["Tea was first drunk"]]})
    att = attribute([st(BEES)], PASSAGES, judge, config=AttributionConfig(candidates=1, max_set=1), embed=embed)
    assert calls == [1 + 5]
    assert att.statements[0].citations == (5,)


def test_renumbering_is_consistent_in_text_and_passage_order() -> None:
    statements = (st("A is so.", (3,)), st("B is so.", (1, 3)), st("C is so."), st("D is so.", (5,)))
    new, order = renumber(statements, PASSAGES)
    assert order == (3, 1, 5, 2, 4)
    assert [s.citations for s in new] == [(1,), (1, 2), (), (3,)]
    assert render(new) == "A is so [1]. B is so [1][2]. C is so. D is so [3]."
    # the renumbered text cites the same passages as before
    reordered = [PASSAGES[n - 1] for n in order]
    for before, after in zip(statements, parse_answer(render(new), len(PASSAGES)), strict=True):
        assert {PASSAGES[n - 1].id for n in before.citations} == {reordered[n - 1].id for n in after.citations}


@pytest.mark.parametrize(
    ("text", "cites", "expected"),
    [
        ("Paris is in France.", (2,), "Paris is in France [2]."),
        ('He said "yes."', (1, 3), 'He said "yes [1][3]."'),
        ("No stop", (1,), "No stop [1]"),
        ("Plain.", (), "Plain."),
        ("Tied for most goals (109).", (1,), "Tied for most goals (109) [1]."),
        ("Tied for most goals (109)", (1,), "Tied for most goals (109) [1]"),
    ],
)
def test_with_markers(text: str, cites: tuple[int, ...], expected: str) -> None:
    assert with_markers(text, cites) == expected


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="candidates"):
        AttributionConfig(candidates=0)
    with pytest.raises(ValueError, match="max_set"):
        AttributionConfig(candidates=2, max_set=3)


def test_quote_fallback_quotes_the_nearest_sentence_of_each_passage() -> None:
    passages = [
        Passage("a", "Tea is a drink. Tea was first drunk in China under Shennong.", "Tea"),
        Passage("b", "Honeybees live in colonies with a queen.", "Bees"),
        Passage("c", "Tea reached Europe in the sixteenth century by sea.", "Tea trade"),
    ]
    quotes = quote_fallback("Where was tea first drunk?", passages)
    assert [q.text for q in quotes] == [
        "Tea was first drunk in China under Shennong.",  # 3 of 3 question words; "Tea is a drink." too short
        "Tea reached Europe in the sixteenth century by sea.",
    ]
    assert [q.citations for q in quotes] == [(1,), (3,)]
    assert all(q.verdict == "supported" for q in quotes)
    assert quote_fallback("Anything?", [Passage("x", "Too short.", "")]) == ()


def test_quote_coverage_counts_words_copied_in_order() -> None:
    p = PASSAGES[2]  # "The bridge, designed by Anna Berg, opened in 1937."
    assert quote_coverage("The bridge, designed by Anna Berg, opened in 1937.", p) == 1.0
    assert quote_coverage("Designed by Anna Berg, opened in 1937.", p) == 1.0  # a copied part
    assert quote_coverage("designed by Anna Berg, the bridge opened in 1937", p) < 0.9  # order matters
    assert quote_coverage("The bridge opened in 1990 and was designed by nobody.", p) < 0.9
    assert quote_coverage("Bridge facts.", p) == 0.0  # too short to count as a quote
    # one detail changed: 8 of 9 words copied in order, but "1938" is not in the passage
    assert quote_coverage("The bridge, designed by Anna Berg, opened in 1938.", p) == 0.0


def test_quotes_are_cited_without_asking_the_judge(rule_judge: type[RuleJudge]) -> None:
    judge = rule_judge({})
    quote = "It opened in 1937 after four years of work."
    att = attribute([st(quote, (5,)), st(MOON)], PASSAGES, judge, config=AttributionConfig(max_set=1))
    assert att.statements[0].citations == (2,) and att.statements[0].verdict == "supported"
    assert all(h != quote for _, h in judge.asked)  # only the moon was put to the judge
    assert att.statements[1].verdict == "unsupported"
    off = attribute([st(quote)], PASSAGES, judge, config=AttributionConfig(quotes=False))
    assert off.statements[0].verdict == "unsupported"  # the scripted judge says no to everything


def test_code_the_passage_holds_is_cited_without_asking_the_judge(rule_judge: type[RuleJudge]) -> None:
    judge = rule_judge({})  # says no to everything
    manual = [
        Passage("k", "The key may be turned off by requesting set key off or unset key.", "Key"),
        Passage("w", "To convert to WAL mode, use the following pragma:\nPRAGMA journal_mode=WAL;", "WAL"),
    ]
    right = "To turn off the legend, use the command `set key off`."
    wal = "Run `PRAGMA journal_mode=WAL;` to switch to WAL mode."
    invented = "To turn off the key, use `set nokey`."
    wordy = "Use `set key off` to save the plot as a PNG file in another directory."
    att = attribute([st(right), st(wal), st(invented), st(wordy)], manual, judge, question="How do I turn off the key?")
    assert [s.verdict for s in att.statements] == ["supported", "supported", "unsupported", "unsupported"]
    assert [s.citations for s in att.statements[:2]] == [(1,), (2,)]
    assert code_quoted(right, manual[0], "How do I turn off the legend?")
    assert not code_quoted(right, manual[0])  # "legend" is neither in the passage nor the question
    # one word in code type is no code: a style named as a "command" is left to the judge
    assert not code_quoted("Use the `key` command to turn it off.", manual[0], "How do I turn off the key?")


# ---------------------------------------------------------------- support_spans


HONEY = "Honeybees live in colonies with one queen."


CURIE = "Radium was discovered by Marie Curie in Paris."


GLOW = "It glows faintly blue in the dark."


PASSAGE = Passage("p", f"{HONEY} {CURIE}\n{GLOW}", "Radium")


OTHER = Passage("o", "Polonium was named after Poland. Marie Curie was born in Warsaw.", "Polonium")


CURIE_SPAN = (len(HONEY) + 1, len(HONEY) + 1 + len(CURIE))


def _st(text: str, citations: tuple[int, ...]) -> Statement:
    return Statement(text=text, raw=text, citations=citations)


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
