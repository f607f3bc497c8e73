"""The finishing stage on hand-made drafts: hide, fall back, quote, renumber (``rag.finish``)."""

from __future__ import annotations

from rag.evidence import Evidence, EvidenceSelection
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
    assert [(s.text, s.citations) for s in out.hidden] == [("Tea is from Mars.", ())]
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
