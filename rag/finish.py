"""The finishing stage: what the user is shown of a cited draft.

Contract: :func:`finish` takes the draft (statements with verdicts, as citing left them), the
passages given, the evidence selection (None without the evidence prompt) and the
:class:`FinishPolicy`, and returns a :class:`Finished` answer. In order:

1. **hide**: statements whose verdict is not ``supported`` leave the text (they are kept as
   ``hidden``), with ``hide_unsupported``;
2. **fall back**: an answer left with no statement, with ``quote_fallback``, quotes the two best
   evidence sentences (or, without evidence, the passage sentences nearest the question) — unless
   quoted evidence will fill it;
3. **quote**: with evidence and ``quote_words`` > 0, the answer is followed by evidence sentences
   quoted word for word, cited to their passages, within that many words (:func:`with_quotes`);
   an answer that is only quotes counts as the fallback, and one still empty (no evidence that
   stands on its own) quotes the passage sentences nearest the question: never an empty answer
   when passages were given and the fallback is on;
4. **renumber**: with post-hoc citing, the cited passages come first, numbered in order of first
   citation; hidden statements lose their citations (they cite nothing shown).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rag.citing.attribution import drop_unsupported, quote_fallback, render, renumber, with_markers
from rag.evidence import EvidenceSelection, evidence_quote, leans_back
from rag.text import content_words, jaccard
from rag.types import Passage, ScoredPassage, Statement

if TYPE_CHECKING:
    import numpy as np

EmbedFn = Callable[[Sequence[str]], "np.ndarray"]


@dataclass(frozen=True)
class FinishPolicy:
    """How a draft is finished (the fields of :class:`rag.pipeline.PipelineConfig` that decide it):
    ``posthoc`` says citations were chosen by attribution (the text is re-rendered from the
    statements and the passages renumbered); see the module doc for the rest."""

    posthoc: bool = True
    hide_unsupported: bool = True
    quote_fallback: bool = True
    quote_words: int = 80
    duplicate_overlap: float = 0.7


@dataclass(frozen=True)
class Draft:
    """One generated answer as citing left it: its text and its statements (with verdicts)."""

    text: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Finished:
    """What the user is shown: the text and statements kept, those hidden as unsupported, whether
    the text is the quote fallback, and the passages in their shown order."""

    text: str
    statements: tuple[Statement, ...]
    hidden: tuple[Statement, ...]
    fallback: bool
    passages: tuple[ScoredPassage, ...]


def finish(
    question: str,
    draft: Draft,
    given: Sequence[ScoredPassage],
    selection: EvidenceSelection | None,
    policy: FinishPolicy,
    embed: EmbedFn | None = None,
) -> Finished:
    """The draft as the user sees it (hide, fall back, quote, renumber: see the module doc).
    ``embed`` ranks passage sentences for the fallback when there is no evidence selection."""
    plain = [sp.passage for sp in given]
    quotes = selection is not None and policy.quote_words > 0
    text, statements, fallback = draft.text, draft.statements, False
    hidden: tuple[Statement, ...] = ()
    if policy.hide_unsupported:
        hidden = tuple(st for st in statements if st.verdict != "supported")
        statements = drop_unsupported(statements)
        text = _text(statements, policy)
        if not statements and policy.quote_fallback and plain and not quotes:
            statements = fallback_quotes(question, plain, selection, embed)
            text, fallback = render(statements), bool(statements)
    if quotes and selection is not None and (statements or policy.quote_fallback):
        quoted, added = with_quotes(statements, selection, policy.quote_words, policy.duplicate_overlap, question)
        if added:
            statements, text, fallback = quoted, _text(quoted, policy), len(quoted) == added
    if not statements and policy.hide_unsupported and policy.quote_fallback and plain:
        # Never an empty answer when passages were given: quoted evidence added nothing (none
        # chosen, or none that stands on its own), so quote the sentences nearest the question.
        statements = fallback_quotes(question, plain, None, embed)
        text, fallback = render(statements), bool(statements)
    passages = tuple(given)
    if policy.posthoc and plain:
        statements, order = renumber(statements, plain)
        text = render(statements)
        hidden = tuple(replace(st, citations=(), raw=st.text) for st in hidden)  # no marker of an old number
        passages = tuple(given[old - 1] for old in order)
    return Finished(text, statements, hidden, fallback, passages)


def _text(statements: Sequence[Statement], policy: FinishPolicy) -> str:
    return render(statements) if policy.posthoc else " ".join(st.raw for st in statements)


def fallback_quotes(
    question: str,
    passages: Sequence[Passage],
    selection: EvidenceSelection | None,
    embed: EmbedFn | None = None,
) -> tuple[Statement, ...]:
    """Quoted sentences for an answer left empty: the two best evidence sentences, or without an
    evidence selection the passage sentences nearest the question (``quote_fallback``)."""
    if selection is None:
        return quote_fallback(question, passages, embed=embed)
    texts = [(evidence_quote(e), e.passage) for e in selection.evidence[:2]]
    return tuple(Statement(text=t, raw=with_markers(t, (n,)), citations=(n,), verdict="supported") for t, n in texts)


def _mostly_within(words: set[str], earlier: set[str], share: float = 0.8) -> bool:
    """True when at least ``share`` of ``words`` are in ``earlier`` and those that are not hold no
    digit: a sentence that retells one already said ("The clip features footage of Winehouse …"
    after "Featuring Winehouse making her way …"), not one that adds a year or a number.

    >>> _mostly_within({"clip", "winehouse", "motel", "room", "dim"}, {"winehouse", "motel", "room", "dim", "video"})
    True
    >>> _mostly_within({"rangers", "won", "cup", "1994", "season"}, {"rangers", "won", "cup", "1940", "season"})
    False
    """
    if not words:
        return False
    new = words - earlier
    return len(words & earlier) >= share * len(words) and not any(ch.isdigit() for w in new for ch in w)


def repeats_fact(words: set[str], earlier: set[str], question: set[str] | frozenset[str] = frozenset()) -> bool:
    """True when a sentence with content words ``words`` states a fact of one with ``earlier``
    again: it holds numbers, all of them are in ``earlier``, and so are at least two more of its
    words that the question does not already name (the things the numbers are about).

    >>> q = {"marie", "curie", "discover"}
    >>> said = {"marie", "curie", "discovered", "polonium", "radium", "1898"}
    >>> repeats_fact({"working", "pierre", "discovered", "new", "elements", "1898", "polonium", "radium"}, said, q)
    True
    >>> repeats_fact({"1911", "received", "nobel", "prize", "chemistry", "polonium", "radium"}, said, q)
    False
    >>> repeats_fact({"rangers", "lost", "final", "1994"}, {"rangers", "won", "cup", "1994"}, {"rangers", "cup"})
    False
    """
    numbers = {w for w in words if any(ch.isdigit() for ch in w)}
    if not numbers or not numbers <= earlier:
        return False
    return len((words & earlier) - numbers - question) >= 2


def retells(words: set[str], earlier: set[str], duplicate_overlap: float = 0.7) -> bool:
    """True when a sentence with content words ``words`` adds nothing to one with ``earlier``: they
    share at least ``duplicate_overlap`` of their words (Jaccard), or 80% of ``words`` are in
    ``earlier`` and the rest hold no digit (:func:`_mostly_within`)."""
    return jaccard(words, earlier) >= duplicate_overlap or _mostly_within(words, earlier)


def with_quotes(
    statements: Sequence[Statement],
    selection: EvidenceSelection,
    words: int,
    duplicate_overlap: float = 0.7,
    question: str = "",
) -> tuple[tuple[Statement, ...], int]:
    """``statements`` followed by evidence sentences quoted word for word (less footnote markers,
    a list line with a full stop, code in backticks: :func:`rag.evidence.evidence_quote`), each
    cited to its passage (a quote is supported by the passage it is copied from), in the order
    evidence was chosen, while the answer stays within ``words`` words. A sentence opening on a
    pronoun is not quoted (:func:`rag.evidence.leans_back`). An answer with no statement always
    gets the first quote, however long. A sentence already in the answer, or sharing at least
    ``duplicate_overlap`` of its content words (Jaccard) with a sentence in it, or with 80% of its
    content words in one and no digit among the rest (:func:`retells`), or stating again the
    numbers and what they are about of one (:func:`repeats_fact`: no fact twice), is not quoted.
    Returns the statements and how many quotes were added."""
    out = list(statements)
    used = sum(len(st.text.split()) for st in out)
    bags = [content_words(st.text) for st in out]
    asked = content_words(question)
    added = 0
    for e in selection.evidence:
        text = evidence_quote(e)
        if leans_back(text):
            continue
        n_words = len(text.split())
        if out and used + n_words > words:
            continue
        bag = content_words(text)
        if any(text == st.text for st in out) or any(
            retells(bag, b, duplicate_overlap) or repeats_fact(bag, b, asked) for b in bags
        ):
            continue
        out.append(
            Statement(text=text, raw=with_markers(text, (e.passage,)), citations=(e.passage,), verdict="supported")
        )
        bags.append(bag)
        used += n_words
        added += 1
    return tuple(out), added
