"""The finishing stage on hand-made drafts: hide, fall back, quote, renumber (``rag.finish``)."""

from __future__ import annotations

from conftest import run_doctests

from rag.evidence import Evidence, EvidenceSelection, as_quote, leans_back, without_footnotes
from rag.finish import Draft, FinishPolicy, finish, retells, with_quotes
from rag.types import Passage, ScoredPassage, Statement

TEA = Passage(id="tea", title="Tea", text="Tea was first drunk in China. It is hot.")
BEES = Passage(id="bees", title="Bees", text="Bees make honey in hives every summer.")
COFFEE = Passage(id="coffee", title="Coffee", text="Coffee was first drunk in Yemen.")
GIVEN = [ScoredPassage(p, 1.0 - i / 10, i + 1) for i, p in enumerate([TEA, BEES, COFFEE])]


def st(text: str, cites: tuple[int, ...], verdict: str | None = "supported") -> Statement:
    body = text[:-1]
    marks = "".join(f"[{n}]" for n in cites)
    return Statement(text=text, raw=f"{body} {marks}." if cites else text, citations=cites, verdict=verdict)


def test_hides_unsupported_statements_and_keeps_them_apart() -> None:
    draft = Draft("…", (st("Tea is from China.", (1,)), st("Tea is from Mars.", (2,), "unsupported")))
    out = finish("Where is tea from?", draft, GIVEN, None, FinishPolicy(quote_words=0))
    assert out.text == "Tea is from China [1]."
    assert [s.text for s in out.statements] == ["Tea is from China."]
    # hidden statements keep their text, lose their citations (they cite nothing shown)
    assert [(s.text, s.raw, s.citations) for s in out.hidden] == [("Tea is from Mars.", "Tea is from Mars.", ())]
    assert out.fallback is False
    assert [sp.passage.id for sp in out.passages] == ["tea", "bees", "coffee"]


def test_renumbers_cited_passages_first_in_citation_order() -> None:
    draft = Draft("…", (st("Coffee is from Yemen.", (3,)), st("Tea is from China.", (1,))))
    out = finish("q?", draft, GIVEN, None, FinishPolicy(quote_words=0))
    assert [sp.passage.id for sp in out.passages] == ["coffee", "tea", "bees"]
    assert [s.citations for s in out.statements] == [(1,), (2,)]
    assert out.text == "Coffee is from Yemen [1]. Tea is from China [2]."


def test_an_empty_answer_quotes_the_sentences_nearest_the_question() -> None:
    draft = Draft("…", (st("Tea is from Mars.", (2,), "unsupported"),))
    out = finish("Where was tea first drunk?", draft, GIVEN, None, FinishPolicy(quote_words=0))
    # "It is hot." is under four words; the tea sentence shares tea/first/drunk with the question,
    # the coffee one first/drunk: one sentence a passage, two at most, best first
    assert [s.text for s in out.statements] == ["Tea was first drunk in China.", "Coffee was first drunk in Yemen."]
    assert out.fallback is True
    assert out.text == "Tea was first drunk in China [1]. Coffee was first drunk in Yemen [2]."
    assert [sp.passage.id for sp in out.passages] == ["tea", "coffee", "bees"]


def test_no_fallback_when_it_is_off() -> None:
    draft = Draft("…", (st("Tea is from Mars.", (2,), "unsupported"),))
    policy = FinishPolicy(quote_fallback=False, quote_words=0)
    out = finish("Where was tea first drunk?", draft, GIVEN, None, policy)
    assert out.statements == () and out.text == "" and out.fallback is False


def selection(*pieces: tuple[int, str]) -> EvidenceSelection:
    passages = {1: TEA, 2: BEES, 3: COFFEE}
    out = []
    for n, text in pieces:
        start = passages[n].text.index(text)
        out.append(Evidence(n, start, start + len(text), text, 0.0))
    return EvidenceSelection(tuple(out), 1.0, True)


def test_never_empty_when_no_evidence_stands_on_its_own() -> None:
    """Every statement hidden and the only evidence opens on a pronoun (not quoted alone): the
    answer still quotes the passage sentences nearest the question, as the fallback."""
    chosen = selection((1, "It is hot."))
    draft = Draft("…", (st("Tea is from Mars.", (2,), "unsupported"),))
    out = finish("Where was tea first drunk?", draft, GIVEN, chosen, FinishPolicy(quote_words=80))
    assert [s.text for s in out.statements] == ["Tea was first drunk in China.", "Coffee was first drunk in Yemen."]
    assert out.fallback is True and out.text


def test_evidence_quotes_follow_the_answer_within_the_word_budget() -> None:
    chosen = selection((3, "Coffee was first drunk in Yemen."), (2, "Bees make honey in hives every summer."))
    draft = Draft("…", (st("Tea was first drunk in China.", (1,)),))
    # 6 words said; the coffee quote (6) fits in 13, the bees quote (7) would make 19
    out = finish("q?", draft, GIVEN, chosen, FinishPolicy(quote_words=13))
    assert [s.text for s in out.statements] == ["Tea was first drunk in China.", "Coffee was first drunk in Yemen."]
    assert out.fallback is False
    assert out.text == "Tea was first drunk in China [1]. Coffee was first drunk in Yemen [2]."


def test_an_answer_of_quotes_only_counts_as_the_fallback() -> None:
    chosen = selection((2, "Bees make honey in hives every summer."))
    draft = Draft("…", (st("Tea is from Mars.", (1,), "unsupported"),))
    out = finish("q?", draft, GIVEN, chosen, FinishPolicy(quote_words=80))
    assert [s.text for s in out.statements] == ["Bees make honey in hives every summer."]
    assert out.fallback is True
    assert [sp.passage.id for sp in out.passages] == ["bees", "tea", "coffee"]


def test_no_quotes_into_an_empty_answer_without_the_fallback() -> None:
    chosen = selection((2, "Bees make honey in hives every summer."))
    draft = Draft("…", (st("Tea is from Mars.", (1,), "unsupported"),))
    out = finish("q?", draft, GIVEN, chosen, FinishPolicy(quote_fallback=False, quote_words=80))
    assert out.statements == ()


def test_with_evidence_and_no_quotes_the_fallback_quotes_the_two_best_evidence_sentences() -> None:
    chosen = selection(
        (3, "Coffee was first drunk in Yemen."),
        (1, "Tea was first drunk in China."),
        (2, "Bees make honey in hives every summer."),
    )
    draft = Draft("…", (st("Tea is from Mars.", (1,), "unsupported"),))
    out = finish("q?", draft, GIVEN, chosen, FinishPolicy(quote_words=0))
    assert [s.text for s in out.statements] == ["Coffee was first drunk in Yemen.", "Tea was first drunk in China."]
    assert out.fallback is True


def test_the_generators_own_citations_keep_their_text_and_order() -> None:
    draft = Draft(
        "Tea is from China [3]. Nope [1].", (st("Tea is from China.", (3,)), st("Nope.", (1,), "unsupported"))
    )
    out = finish("q?", draft, GIVEN, None, FinishPolicy(posthoc=False, quote_words=0))
    assert out.text == "Tea is from China [3]."  # the raw sentence, no renumbering
    assert [sp.passage.id for sp in out.passages] == ["tea", "bees", "coffee"]
    assert out.hidden[0].citations == (1,)


def test_nothing_hidden_when_hiding_is_off() -> None:
    draft = Draft("…", (st("Tea is from Mars.", (1,), "unsupported"),))
    out = finish("q?", draft, GIVEN, None, FinishPolicy(hide_unsupported=False, quote_words=0))
    assert [s.text for s in out.statements] == ["Tea is from Mars."] and out.hidden == ()


def test_a_quote_that_retells_a_kept_sentence_is_not_added() -> None:
    said = (st("Tea was first drunk in China.", (1,)),)
    chosen = selection((1, "Tea was first drunk in China."), (1, "It is hot."))
    statements, added = with_quotes(said, chosen, 80)
    # the same sentence is not quoted again; "It is hot." opens on a pronoun
    assert added == 0 and statements == said
    assert retells({"tea", "first", "drunk", "china"}, {"tea", "first", "drunk", "china", "legend"})
    assert not retells({"tea", "drunk", "1610", "europe"}, {"tea", "drunk", "china"})


# ---------------------------------------------------------------- with_quotes on its own


# Sentences about radium for the quotes (DISCOVERED 9 words, ORE 10, RADIUM_GLOW 7).
RADIUM_GLOW = "Radium glows faintly blue in the dark."


def _selection(*texts: str) -> EvidenceSelection:
    """Evidence in this choice order, sentence i from passage i + 1."""
    return EvidenceSelection(tuple(Evidence(i + 1, 0, len(t), t, 1.0 - i / 10) for i, t in enumerate(texts)), 1.0, True)


ANSWER = Statement(
    text="Marie Curie found radium.", raw="Marie Curie found radium [1].", citations=(1,), verdict="supported"
)


DISCOVERED = "Radium was discovered by Marie Curie and Pierre Curie."  # 9 words


ORE = "The element radium was discovered in a pitchblende ore sample."  # 10 words


def test_with_quotes_fills_the_word_budget_in_choice_order() -> None:
    # 4 words + DISCOVERED (9) = 13; ORE (10) would make 23 > 20 and is skipped; RADIUM_GLOW (7) makes 20.
    # DISCOVERED shares radium, marie, curie with the answer: Jaccard 3/6 = 0.5 < 0.7, not a repeat.
    statements, added = with_quotes([ANSWER], _selection(DISCOVERED, ORE, RADIUM_GLOW), words=20)
    assert added == 2
    assert [(st.text, st.raw, st.citations, st.verdict) for st in statements] == [
        (ANSWER.text, ANSWER.raw, (1,), "supported"),
        (DISCOVERED, "Radium was discovered by Marie Curie and Pierre Curie [1].", (1,), "supported"),
        (RADIUM_GLOW, "Radium glows faintly blue in the dark [3].", (3,), "supported"),
    ]


def test_with_quotes_always_quotes_one_sentence_into_an_empty_answer() -> None:
    # DISCOVERED alone is 9 words > 5; nothing else fits after it
    statements, added = with_quotes([], _selection(DISCOVERED, ORE, RADIUM_GLOW), words=5)
    assert added == 1 and [st.text for st in statements] == [DISCOVERED]
    assert with_quotes([], _selection(), words=50) == ((), 0)


def test_with_quotes_skips_what_the_answer_already_says() -> None:
    same = Statement(text=DISCOVERED, raw=f"{DISCOVERED[:-1]} [2].", citations=(2,), verdict="supported")
    # "Radium was discovered by Marie and Pierre Curie." has the content words of DISCOVERED: Jaccard 1
    near = Statement(text="Radium was discovered by Marie and Pierre Curie.", raw="", citations=(1,))
    for st in (same, near):
        statements, added = with_quotes([st], _selection(DISCOVERED, RADIUM_GLOW), words=100)
        assert added == 1 and [s.text for s in statements] == [st.text, RADIUM_GLOW]
    # at duplicate_overlap 0.5 the answer above (Jaccard 0.5 with DISCOVERED) counts as a repeat too
    statements, _ = with_quotes([ANSWER], _selection(DISCOVERED, RADIUM_GLOW), words=100, duplicate_overlap=0.5)
    assert [s.text for s in statements] == [ANSWER.text, RADIUM_GLOW]


def test_with_quotes_skips_a_sentence_that_retells_one_already_in_the_answer() -> None:
    video = (
        "Featuring Winehouse making her way down Hollywood Blvd and in a dim motel room, "
        "the video features the Grand Motel."
    )
    retold = "The clip features footage of Winehouse making her way down Hollywood Blvd and in a dim motel room."
    first = Statement(text=video, raw=f"{video[:-1]} [1].", citations=(1,), verdict="supported")
    # retold: 12 content words, 10 of them in video (clip and footage are not); Jaccard 10/15 < 0.7
    statements, added = with_quotes([first], _selection(retold, RADIUM_GLOW), words=100)
    assert added == 1 and [s.text for s in statements] == [video, RADIUM_GLOW]
    # a sentence that says the same but for a year adds the year: it is quoted
    # (4 of its 5 content words are in won, Jaccard 4 / 9, but the fifth is 1940)
    won = Statement(text="The Rangers won the Stanley Cup in the 1994 season, beating Vancouver.", raw="")
    again = "The Rangers won the Stanley Cup in 1940."
    statements, added = with_quotes([won], _selection(again), words=100)
    assert added == 1 and statements[-1].text == again


def test_no_fact_twice() -> None:
    """A quote holding a kept statement's numbers and what they are about (beyond the question's
    own words) is not quoted; one with a new number, or only the question's words in common, is."""
    said = Statement(text="Marie Curie discovered polonium and radium in 1898.", raw="", verdict="supported")
    again = "Working with Pierre, she discovered two new elements in 1898: polonium and radium."
    nobel = "In 1911 she received the Nobel Prize in Chemistry for the discovery of polonium and radium."
    becquerel = "In 1896 Henri Becquerel found rays coming from uranium."
    question = "What did Marie Curie discover, and who first found radioactivity?"
    statements, added = with_quotes([said], _selection(again, becquerel, nobel), words=100, question=question)
    assert [s.text for s in statements] == [said.text, becquerel, nobel] and added == 2
    # the same year, but nothing else in common beyond the question's words: a different fact
    won = Statement(text="The Rangers won the cup in 1994.", raw="")
    statements, _ = with_quotes(
        [won], _selection("The Rangers lost the final in 1994."), words=100, question="Rangers cup"
    )
    assert len(statements) == 2


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


def test_the_module_examples_hold() -> None:
    import rag.finish

    run_doctests(rag.finish)
