"""The evidence stage: the sentences of the retrieved passages that bear on the question.

Contract: :func:`select_evidence` takes the question and the passages (best retrieved first) and
returns an :class:`rag.evidence.config.EvidenceSelection`: the chosen sentences in choice order,
the best relevance, and whether the passages answer the question at all. Every quotable piece
(:mod:`rag.evidence.candidates`) gets cheap features (:mod:`rag.evidence.features`); the learned
scorer (:mod:`rag.evidence.scorer`) turns them into the probability that the sentence holds a
short answer; with a reader (the generator asked for the short answer given the best
``reader_sentences``), sentences that hold what it answered score higher. The best are chosen
greedily with maximal marginal relevance (:func:`choose_evidence`): ASQA's questions are
ambiguous, and evidence that covers several readings is worth more than two copies of one.
Fragments count for the gate but are never chosen. When even the best sentence's relevance is
under ``min_relevance``, the passages do not answer the question (``answered`` is False).
:func:`evidence_passages` and :func:`evidence_premises` cut passages to their evidence for the
prompt and for the attribution judge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.evidence.candidates import candidate_evidence, is_whole, titled
from rag.evidence.code import code_candidates, with_code_bonus
from rag.evidence.config import EvidenceConfig, EvidenceSelection
from rag.evidence.features import (
    answer_pieces,
    answer_type,
    holds_answer,
    lexical_scores,
    matches_type,
    sentence_features,
)
from rag.evidence.quoting import prompt_text, with_verbatim
from rag.evidence.scorer import learned_eligible, learned_scores, with_reader
from rag.evidence.tables import table_candidates
from rag.text import content_words, jaccard
from rag.types import Passage

if TYPE_CHECKING:
    import numpy as np

EmbedFn = Callable[[Sequence[str]], "np.ndarray"]
#: A reader: given the question and candidate sentences, the short answer(s) it reads in them.
ReadFn = Callable[[str, Sequence[str]], str]


def choose_evidence(
    scores: Sequence[float],
    passage_numbers: Sequence[int],
    similar: np.ndarray | None,
    bags: Sequence[set[str]],
    eligible: Sequence[bool],
    config: EvidenceConfig,
) -> list[int]:
    """Greedy maximal marginal relevance over the ``eligible`` candidates: the best ``scores``
    first, less ``config.diversity`` times the highest cosine (``similar``) to one already chosen;
    at most ``config.per_passage`` from one passage, none sharing ``config.duplicate_overlap`` of
    its content words (``bags``, Jaccard) with one chosen, at most ``config.max_sentences`` in
    all. Returns the chosen indices in choice order."""
    chosen: list[int] = []
    per_passage: dict[int, int] = {}
    remaining = {i for i, ok in enumerate(eligible) if ok}
    while remaining and len(chosen) < config.max_sentences:

        def mmr(i: int) -> float:
            if similar is None or not chosen:
                return float(scores[i])
            return float(scores[i]) - config.diversity * max(float(similar[i, j]) for j in chosen)

        i = max(sorted(remaining), key=mmr)
        remaining.discard(i)
        if per_passage.get(passage_numbers[i], 0) >= config.per_passage:
            continue
        if any(jaccard(bags[i], bags[j]) >= config.duplicate_overlap for j in chosen):
            continue
        chosen.append(i)
        per_passage[passage_numbers[i]] = per_passage.get(passage_numbers[i], 0) + 1
    return chosen


def select_evidence(
    question: str,
    passages: Sequence[Passage],
    *,
    embed: EmbedFn | None = None,
    config: EvidenceConfig | None = None,
    read: ReadFn | None = None,
) -> EvidenceSelection:
    """The sentences of ``passages`` that bear on ``question`` (see the module doc). Without
    ``embed`` only the lexical and answer-type scores count. With ``read`` (and
    ``config.reader``), the learned scorer's best ``config.reader_sentences`` whole candidates are
    read for the short answer, and the sentences that hold it score higher (:func:`with_reader`)."""
    config = config or EvidenceConfig()
    verbatim = code_candidates(passages, config.min_words) + table_candidates(passages, config.min_words)
    cands = with_verbatim(candidate_evidence(passages, config.min_words), verbatim)
    if not cands:
        return EvidenceSelection((), 0.0, False)
    texts = [c.text for c in cands]
    lexical = lexical_scores(question, texts)
    kind = answer_type(question)
    cosine = [0.0] * len(cands)
    title_cosine = [0.0] * len(cands)
    vectors = None
    if embed is not None:
        # one call: each sentence alone and read with its passage's title
        both = embed([question, *texts, *titled(passages, cands)])
        vectors = both[: len(texts) + 1]
        cosine = [float(x) for x in vectors[1:] @ vectors[0]]
        title_cosine = [float(x) for x in both[len(texts) + 1 :] @ vectors[0]]
    relevance = [
        cos + config.lexical_weight * lex + (config.type_weight if matches_type(kind, t) else 0.0)
        for cos, lex, t in zip(cosine, lexical, texts, strict=True)
    ]
    # Fragments count for the gate (they show what the passages are about) but are never chosen.
    whole = [is_whole(c, passages[c.passage - 1]) for c in cands]
    # the gate reads relevance alone
    answered = max(relevance) >= config.min_relevance and any(whole)
    bags = [content_words(t) for t in texts]
    # Cosine between candidates, computed once for the MMR penalty.
    similar = vectors[1:] @ vectors[1:].T if vectors is not None else None
    reader_answer = None
    features = sentence_features(question, passages, cands, cosine, lexical, title_cosine)
    scores = with_code_bonus(learned_scores(features).tolist(), cands, question, config.code_bonus)
    # a question the passages do not answer is not read
    if read is not None and config.reader and answered:
        ranked = sorted((i for i in range(len(cands)) if whole[i]), key=lambda i: -scores[i])
        reader_answer = read(question, [texts[i] for i in ranked[: config.reader_sentences]])
        scores = with_reader(scores, holds_answer(answer_pieces(question, reader_answer), texts))
    eligible = learned_eligible(scores, whole, config.min_probability)
    chosen = choose_evidence(scores, [c.passage for c in cands], similar, bags, eligible, config)
    evidence = tuple(replace(cands[i], score=scores[i]) for i in chosen)
    return EvidenceSelection(evidence, max(relevance), answered, reader_answer)


def evidence_passages(
    passages: Sequence[Passage], selection: EvidenceSelection, limit: int | None = None
) -> tuple[list[Passage], list[int]]:
    """The passages reduced to their evidence sentences (in text order, a table row read with its
    header: :func:`rag.evidence.quoting.prompt_text`; the first ``limit`` chosen, or all), for the
    prompt, and for each the number of the full passage it came from (1-based), in passage order."""
    reduced: list[Passage] = []
    numbers: list[int] = []
    shown = selection.evidence[:limit]
    for n in sorted({e.passage for e in shown}):
        pieces = sorted((e for e in shown if e.passage == n), key=lambda e: (e.start, e.end))
        p = passages[n - 1]
        text = " ".join(prompt_text(e) for e in pieces)
        reduced.append(Passage(id=p.id, title=p.title, text=text, source=p.source))
        numbers.append(n)
    return reduced, numbers


def evidence_premises(
    passages: Sequence[Passage], selection: EvidenceSelection, limit: int | None = None
) -> list[Passage]:
    """``passages`` with each one that gave evidence cut to its evidence sentences (numbering kept:
    the ``i``-th is still passage ``i``), for judging statements against what they were written from."""
    reduced, numbers = evidence_passages(passages, selection, limit)
    out = list(passages)
    for n, p in zip(numbers, reduced, strict=True):
        out[n - 1] = p
    return out
