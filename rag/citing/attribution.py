"""Post-hoc attribution: after generation, find for each statement the smallest set of given
passages that a judge says entails it, and cite exactly those.

For every statement the given passages are first ranked cheaply (cosine similarity of
embeddings when an embedding function is given, plus word overlap, plus a small bonus for the
passages the model itself cited). A statement copied word for word from one of the
``candidates`` best is cited to that passage without asking the judge; for the others, only
those candidates are put to the judge: each alone, in rank order, then pairs (and larger sets up
to ``max_set``) of them. The first set the judge accepts becomes the statement's citations; a
statement no candidate set supports loses its citations and is marked ``unsupported``.

The judge used here is the *attribution* judge. In the headline configuration it must not be the
evaluation judge (``rag.judges.llm.DEFAULT_LLM_JUDGE_MODEL``): a system whose citations were chosen by
its grader grades itself. The default, :data:`DEFAULT_ATTRIBUTION_JUDGE`, is a different model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.judges import Judge
from rag.text import SENTENCE_END_RE, content_words, sentence_spans, split_sentences, words
from rag.types import Passage, Statement, Support, Verdict

if TYPE_CHECKING:
    import numpy as np

#: The attribution judge by default: the 0.5B model (precision 0.952, recall 0.845 on the 149
#: labelled pairs, experiments/judge-agreement/README.md), not the 1.5B evaluation judge.
DEFAULT_ATTRIBUTION_JUDGE = "llm:qwen2.5-0.5b"

EmbedFn = Callable[[Sequence[str]], "np.ndarray"]


@dataclass(frozen=True)
class AttributionConfig:
    """How post-hoc attribution searches: ``candidates`` passages pre-selected per statement,
    citation sets of at most ``max_set`` passages tried (smallest first). With ``quotes``, a
    statement copied from a candidate (``quote_coverage`` >= ``QUOTE_COVERAGE``), or showing code
    the candidate holds word for word (:func:`code_quoted`), is cited to it without asking the
    judge (lexical evidence: a passage entails what it says word for word)."""

    candidates: int = 3
    max_set: int = 2
    quotes: bool = True

    def __post_init__(self) -> None:
        if self.candidates < 1:
            raise RagError(f"candidates must be at least 1, got {self.candidates}")
        if not 1 <= self.max_set <= self.candidates:
            raise RagError(f"max_set must be between 1 and candidates ({self.candidates}), got {self.max_set}")


@dataclass(frozen=True)
class Attribution:
    """The result of attributing one answer: statements with their new citations and verdicts
    (``supported`` or ``unsupported``), the answer text rewritten with those citations, and how
    many (premise, statement) pairs were put to the judge."""

    statements: tuple[Statement, ...]
    text: str
    judge_pairs: int

    @property
    def supported(self) -> int:
        return sum(st.verdict == "supported" for st in self.statements)

    @property
    def support_rate(self) -> float:
        """Fraction of statements with a supporting set (0 for an answer without statements)."""
        return self.supported / len(self.statements) if self.statements else 0.0


def overlap(statement: str, passage: Passage) -> float:
    """Fraction of the statement's content words found in the passage (title included)."""
    words = content_words(statement)
    if not words:
        return 0.0
    return len(words & content_words(f"{passage.title} {passage.text}")) / len(words)


#: A statement is a quote of a passage when at least this share of its words appear in the
#: passage in the same order, in runs of at least ``QUOTE_MIN_RUN`` words.
QUOTE_COVERAGE = 0.9
QUOTE_MIN_RUN = 3
QUOTE_MIN_WORDS = 4


def quote_coverage(statement: str, passage: Passage) -> float:
    """Share of the statement's words (all words, lower-cased) that appear in the passage (title
    and text) in the same order, in runs of ``QUOTE_MIN_RUN`` words or more (difflib's matching
    blocks). 1.0 for a sentence copied word for word; 0 for a statement under ``QUOTE_MIN_WORDS``
    words or with any word the passage does not contain (so a copy with one detail changed is
    left to the judge)."""
    from difflib import SequenceMatcher

    said = words(statement)
    if len(said) < QUOTE_MIN_WORDS:
        return 0.0
    source = words(f"{passage.title} {passage.text}")
    if not set(said) <= set(source):
        return 0.0  # a word the passage never uses (a changed date, name, number): not a quote
    blocks = SequenceMatcher(None, said, source, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= QUOTE_MIN_RUN) / len(said)


# Code as a statement writes it: `set logscale y`.
_BACKTICKED_RE = re.compile(r"`([^`]+)`")
#: A statement that shows code is cited to a passage holding every piece of its code when at least
#: this share of its content words (less the words of instructions) are in the passage or the question.
CODE_OVERLAP = 0.6
# Words that say how to do something, not what is done: "you can use the following command".
_INSTRUCTION_WORDS = frozenset(
    "use using used run running type enter write call add specify set command commands option options "
    "can could you your need want must should may might following example instance statement keyword "
    "syntax function".split()
)


def _looks_like_code(piece: str) -> bool:
    """Whether a backticked piece is code rather than a word set in code type: two words or more
    (`set key off`), a sign a word has not (`f(x)`, `journal_mode=WAL`), or a keyword in capitals
    (`STRICT`).

    >>> _looks_like_code("set key off"), _looks_like_code("f(x)"), _looks_like_code("STRICT")
    (True, True, True)
    >>> _looks_like_code("errorbars"), _looks_like_code("Key")
    (False, False)
    """
    return " " in piece or piece.isupper() or any(not (ch.isalnum() or ch == "_") for ch in piece)


def code_quoted(statement: str, passage: Passage, question: str = "") -> bool:
    """Whether ``statement`` shows code (in backticks, at least one piece more than a plain word:
    `set key off`, `f(x)`, `STRICT`) that ``passage`` holds word for word, every piece of it, and
    says little else: at least :data:`CODE_OVERLAP` of its content words are in the passage (title
    included) or the question, leaving out the words of instructions ("you can use the following
    command"). Code is lexical evidence, as a quote is: a command the passage does not hold
    ("`set ylog`") is left to the judge.

    >>> p = Passage(id="1", title="Key", text="The key may be turned off by requesting set key off or unset key.")
    >>> code_quoted("To turn off the key, use `set key off`.", p, "How do I turn off the key?")
    True
    >>> code_quoted("To turn off the key, use `set nokey`.", p), code_quoted("Use set key off.", p)
    (False, False)
    """
    pieces = [" ".join(m.group(1).split()) for m in _BACKTICKED_RE.finditer(statement)]
    pieces = [piece for piece in pieces if len(piece) >= 2]
    if not any(_looks_like_code(piece) for piece in pieces):
        return False
    text = " ".join(passage.text.split())
    if not all(piece in text for piece in pieces):
        return False
    said = content_words(_BACKTICKED_RE.sub(" ", statement)) - _INSTRUCTION_WORDS
    if not said:
        return True
    known = content_words(f"{passage.title} {passage.text} {question}")
    return len(said & known) / len(said) >= CODE_OVERLAP


def rank_candidates(
    statement: Statement,
    passages: Sequence[Passage],
    similarities: Sequence[float] | None = None,
    own_bonus: float = 0.1,
) -> list[int]:
    """Passage numbers (1-based) from most to least likely to support ``statement``.

    Score = word overlap + cosine similarity (when given) + ``own_bonus`` for passages the
    statement already cites. Ties keep passage order, so the ranking is deterministic.
    """
    scores = []
    for i, p in enumerate(passages):
        s = overlap(statement.text, p)
        if similarities is not None:
            s += float(similarities[i])
        if (i + 1) in statement.citations:
            s += own_bonus
        scores.append((-s, i + 1))
    return [n for _, n in sorted(scores)]


def premise(passages: Sequence[Passage]) -> str:
    """The judge's premise for a set of passages, as ALCE builds it."""
    return "\n".join(f"Title: {p.title}\n{p.text}" for p in passages)


def minimal_support(
    statement: str, ranked: Sequence[int], passages: Sequence[Passage], judge: Judge, max_set: int
) -> tuple[tuple[int, ...] | None, int]:
    """The first set of passage numbers, smallest first and in rank order within a size, that the
    judge says entails ``statement``; ``None`` when none does. Returns ``(set, pairs asked)``.

    A judge that answers one pair at a time (``judge.batched`` False, the LLM judges on llama.cpp)
    is asked set by set and not asked again once a set is accepted; a batched one is asked each
    size as one batch. Either way the set found is the same: the first accepted in this order.
    """
    asked = 0
    for size in range(1, max_set + 1):
        sets = [tuple(sorted(c)) for c in combinations(ranked, size)]
        if not sets:
            break
        step = len(sets) if judge.batched else 1
        for start in range(0, len(sets), step):
            chunk = sets[start : start + step]
            verdicts = judge.entails_batch([(premise([passages[n - 1] for n in s]), statement) for s in chunk])
            asked += len(chunk)
            for s, ok in zip(chunk, verdicts, strict=True):
                if ok:
                    return s, asked
    return None, asked


def with_markers(text: str, citations: Sequence[int]) -> str:
    """``text`` with ``[n]`` markers placed before its closing punctuation: ``"A is B [1][3]."``."""
    if not citations:
        return text
    marks = "".join(f"[{n}]" for n in citations)
    m = SENTENCE_END_RE.search(text.rstrip())
    end = m.group(1) if m else ""
    text = text.rstrip()
    body = text[: len(text) - len(end)].rstrip()
    return f"{body} {marks}{end}"


def render(statements: Sequence[Statement]) -> str:
    """The answer text: each statement with its citations, joined by spaces."""
    return " ".join(with_markers(st.text, st.citations) for st in statements)


def attribute(
    statements: Sequence[Statement],
    passages: Sequence[Passage],
    judge: Judge,
    *,
    config: AttributionConfig | None = None,
    embed: EmbedFn | None = None,
    question: str = "",
) -> Attribution:
    """Re-cite every statement with the smallest supporting set of given passages.

    ``embed`` (texts -> unit-length rows) adds cosine similarity to the cheap pre-selection;
    without it, word overlap alone ranks the candidates. With ``config.quotes`` a statement copied
    from a candidate, or showing code a candidate holds (:func:`code_quoted`, the ``question``'s
    words counted as known), is cited to it without asking the judge.
    """
    cfg = config or AttributionConfig()
    sims = None
    if embed is not None and statements and passages:
        vecs = embed([st.text for st in statements] + [f"{p.title}\n{p.text}" for p in passages])
        sims = vecs[: len(statements)] @ vecs[len(statements) :].T
    out: list[Statement] = []
    asked = 0
    for i, st in enumerate(statements):
        ranked = rank_candidates(st, passages, None if sims is None else sims[i])[: cfg.candidates]
        found: tuple[int, ...] | None = None
        if cfg.quotes:
            quoted = [
                n
                for n in ranked
                if quote_coverage(st.text, passages[n - 1]) >= QUOTE_COVERAGE
                or code_quoted(st.text, passages[n - 1], question)
            ]
            found = (quoted[0],) if quoted else None
        if found is None and st.text.strip() and ranked:
            found, n = minimal_support(st.text, ranked, passages, judge, min(cfg.max_set, len(ranked)))
            asked += n
        cites = found or ()
        verdict: Verdict = "supported" if found else "unsupported"
        out.append(
            replace(st, citations=cites, invalid_citations=(), raw=with_markers(st.text, cites), verdict=verdict)
        )
    return Attribution(tuple(out), render(out), asked)


def renumber(
    statements: Sequence[Statement], passages: Sequence[Passage]
) -> tuple[tuple[Statement, ...], tuple[int, ...]]:
    """Number the cited passages 1, 2, ... in order of first citation.

    Returns the statements with renumbered citations (``raw`` rewritten to match) and the new
    passage order as old 1-based numbers: cited passages first, in citation order, then the
    uncited ones in their old order. ``passages[order[j] - 1]`` is the new passage ``j + 1``.
    """
    order: list[int] = []
    for st in statements:
        order.extend(n for n in st.citations if n not in order)
    order.extend(n for n in range(1, len(passages) + 1) if n not in order)
    new_number = {old: new for new, old in enumerate(order, 1)}
    out = []
    for st in statements:
        cites = tuple(sorted(new_number[n] for n in st.citations))
        out.append(replace(st, citations=cites, raw=with_markers(st.text, cites)))
    return tuple(out), tuple(order)


def remap(statements: Sequence[Statement], numbers: Sequence[int]) -> tuple[Statement, ...]:
    """Citations to the ``i``-th of a subset of passages rewritten as citations to ``numbers[i-1]``,
    its number among all the passages (and the markers in ``raw`` with them)."""
    if list(numbers) == list(range(1, len(numbers) + 1)):
        return tuple(statements)
    out = []
    for st in statements:
        cites = tuple(dict.fromkeys(numbers[n - 1] for n in st.citations))
        out.append(replace(st, citations=cites, raw=with_markers(st.text, cites)))
    return tuple(out)


def drop_unsupported(statements: Sequence[Statement]) -> tuple[Statement, ...]:
    """Only the statements whose verdict is ``supported``."""
    return tuple(st for st in statements if st.verdict == "supported")


def quote_fallback(
    question: str,
    passages: Sequence[Passage],
    *,
    embed: EmbedFn | None = None,
    max_sentences: int = 2,
) -> tuple[Statement, ...]:
    """When no statement of an answer is supported: the passage sentences nearest the question,
    quoted word for word and cited to their passage (a quote is supported by its passage).

    Sentences (punkt, as everywhere) are ranked by cosine similarity to the question (with
    ``embed``) plus word overlap with it; at most one per passage, ``max_sentences`` in all, in
    rank order. Sentences of fewer than four words are skipped.
    """
    cands: list[tuple[int, str]] = []
    for n, p in enumerate(passages, 1):
        for sent in split_sentences(" ".join(p.text.split())):
            if len(sent.split()) >= 4 and "[" not in sent:
                cands.append((n, sent))
    if not cands:
        return ()
    q_words = content_words(question)
    scores = [len(q_words & content_words(s)) / (len(q_words) or 1) for _, s in cands]
    if embed is not None:
        vecs = embed([question] + [s for _, s in cands])
        scores = [a + float(b) for a, b in zip(scores, vecs[1:] @ vecs[0], strict=True)]
    order = sorted(range(len(cands)), key=lambda i: (-scores[i], i))
    out: list[Statement] = []
    used: set[int] = set()
    for i in order:
        n, sent = cands[i]
        if n in used:
            continue
        used.add(n)
        out.append(Statement(text=sent, raw=with_markers(sent, (n,)), citations=(n,), verdict="supported"))
        if len(out) == max_sentences:
            break
    return tuple(out)


def support_spans(statement: Statement, passages: Sequence[Passage], min_overlap: float = 0.5) -> tuple[Support, ...]:
    """For each passage the statement cites, the sentence of it the statement comes from: the one
    sharing the most of the statement's content words (at least ``min_overlap`` of them; a quote
    shares all). A cited passage with no such sentence gives no span."""
    words = content_words(statement.text)
    out: list[Support] = []
    for n in statement.citations:
        text = passages[n - 1].text
        best: tuple[float, int, int] | None = None
        for start, end in sentence_spans(text):
            share = len(words & content_words(text[start:end])) / len(words) if words else 0.0
            if share >= min_overlap and (best is None or share > best[0]):
                best = (share, start, end)
        if best is not None:
            out.append(Support(n, best[1], best[2]))
    return tuple(out)
