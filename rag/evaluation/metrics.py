"""ASQA metrics exactly as ALCE computes them (the ALCE paper and its ``eval.py``), plus faithfulness.

Pure functions: nothing here loads a model; the entailment judge is passed in (anything with a
``name`` and ``entails_batch([(premise, hypothesis), ...]) -> [bool, ...]``).

ALCE's pipeline, which ``score_question`` follows:

1. ``prepare_output``: strip, cut at the first newline (ALCE-exact; optional otherwise), drop
   ``<|im_end|>``.
2. ``str_em`` / ``str_hit`` / ``rouge_lsum`` / ``answer_length`` on the output with citations
   removed (ALCE's ``remove_citations`` in ALCE-exact mode).
3. ``citation_scores`` on the prepared output *with* its citations.

Per-question values are in [0, 1]; ``aggregate`` reports the ×100 macro averages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from rag.citing.citations import (
    alce_citation_numbers,
    alce_remove_citations,
    parse_answer,
    strip_citations,
)
from rag.errors import RagError
from rag.text import normalize_answer, split_sentences

logger = logging.getLogger(__name__)

#: rouge-score's BootstrapAggregator default number of resamples.
BOOTSTRAP_SAMPLES = 1000


@runtime_checkable
class EntailmentJudge(Protocol):
    """Decides whether a premise entails a hypothesis; batched."""

    name: str

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """One verdict per ``(premise, hypothesis)`` pair, in order."""
        ...


# ---------------------------------------------------------------- correctness


def _qa_hits(output: str, qa_pairs: Sequence[dict]) -> list[bool]:
    if not qa_pairs:
        raise RagError("the question has no qa_pairs: str_em/str_hit need at least one short answer list")
    context = normalize_answer(output)
    hits = []
    for pair in qa_pairs:
        if "short_answers" not in pair:
            raise RagError(f"qa_pair without 'short_answers' (keys: {sorted(pair)}): is this ASQA data?")
        hits.append(any(normalize_answer(a) in context for a in pair["short_answers"]))
    return hits


def str_em(output: str, qa_pairs: Sequence[dict]) -> float:
    """Fraction of ``qa_pairs`` with a normalised ``short_answers`` alias inside the normalised output.

    ``output`` should already be prepared (citations removed), as ``score_question`` does. Note an
    empty alias normalises to "" and so always matches (as in ALCE).
    """
    hits = _qa_hits(output, qa_pairs)
    return sum(hits) / len(hits)


def str_hit(output: str, qa_pairs: Sequence[dict]) -> float:
    """1.0 if every qa_pair is a ``str_em`` hit, else 0.0."""
    return 1.0 if all(_qa_hits(output, qa_pairs)) else 0.0


_rouge_scorer: Any = None


def _scorer() -> Any:
    global _rouge_scorer
    if _rouge_scorer is None:
        from rouge_score import rouge_scorer

        _rouge_scorer = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=True)
    return _rouge_scorer


def _rouge_text(text: str) -> str:
    return "\n".join(split_sentences(text.lower()))


def rouge_lsum(output: str, references: Sequence[str]) -> float:
    """ROUGE-Lsum F (rouge-score, Porter stemming), the best over ``references``, in [0, 1].

    As ALCE: each text is lowercased, sentence-split with NLTK and joined with newlines first.
    """
    if not references:
        raise RagError("rouge_lsum needs at least one reference answer")
    hyp = _rouge_text(output)
    return max(_scorer().score(_rouge_text(ref), hyp)["rougeLsum"].fmeasure for ref in references)


def answer_length(output: str) -> int:
    """Number of white-space separated words (ALCE's ``len(output.split())``)."""
    return len(output.split())


def prepare_output(output: str, cut_first_newline: bool = True) -> str:
    """ALCE's pre-processing: strip, keep only the first line (if asked), remove ``<|im_end|>``."""
    out = output.strip()
    if cut_first_newline:
        out = out.split("\n")[0]
    return out.replace("<|im_end|>", "")


# ---------------------------------------------------------------- citation quality


@dataclass(frozen=True)
class CitationScores:
    """Citation quality of one answer.

    ``recall`` = mean of ``statement_recall``; ``precision`` = correct / counted citations (0.0 when
    none counted); ``n_citations`` = citations counted for precision (at most ``at_most_citations``
    per statement, statements with an out-of-range citation not counted).
    """

    recall: float
    precision: float
    n_statements: int
    n_citations: int
    statement_recall: tuple[int, ...]


def _format_doc(doc: dict) -> str:
    # ALCE's _format_document: QA-extracted docs carry their text in "sent".
    body = doc["sent"] if "sent" in doc else doc["text"]
    return f"Title: {doc['title']}\n{body}"


def _judge_unique(judge: EntailmentJudge, pairs: list[tuple[str, str]]) -> list[bool]:
    """Ask the judge once per distinct pair."""
    if not pairs:
        return []
    unique = list(dict.fromkeys(pairs))
    verdicts = judge.entails_batch(unique)
    if len(verdicts) != len(unique):
        raise RagError(f"judge {judge.name!r} returned {len(verdicts)} verdicts for {len(unique)} pairs")
    lookup = {p: bool(v) for p, v in zip(unique, verdicts, strict=True)}
    return [lookup[p] for p in pairs]


def _statements(output: str, n_docs: int, at_most: int, alce_exact: bool) -> list[tuple[str, list[int] | None]]:
    """(hypothesis, 0-based doc indexes or None when rejected) per statement."""
    out: list[tuple[str, list[int] | None]] = []
    if alce_exact:
        for sent in split_sentences(output):
            target = alce_remove_citations(sent).strip()
            refs = [n - 1 for n in alce_citation_numbers(sent)]
            # ALCE checks the range on all citations before truncating; "[0]" -> index -1 -> the
            # last doc (Python indexing in ALCE), kept on purpose for ALCE-exact numbers.
            if not refs or any(r >= n_docs for r in refs) or (n_docs == 0):
                out.append((target, None))
            else:
                out.append((target, refs[:at_most]))
    else:
        for st in parse_answer(output, n_docs):
            if not st.citations or st.invalid_citations:
                out.append((st.text, None))
            else:
                out.append((st.text, [n - 1 for n in st.citations[:at_most]]))
    return out


# Longer than ~60 lines on purpose: it follows ALCE's compute_autoais loop step by step, so the two
# can be read side by side (experiments/alce-exactness/alce_check.py checks they agree).
def citation_scores(
    output: str,
    docs: Sequence[dict],
    judge: EntailmentJudge,
    *,
    at_most_citations: int = 3,
    alce_exact: bool = True,
) -> CitationScores | None:
    """Citation recall and precision of one (prepared) answer, as ALCE's ``compute_autoais``.

    ``docs`` are the passages given to the generator in prompt order (``[1]`` is ``docs[0]``), each
    ``{"title", "text"}``. Returns ``None`` when the output has no statement (ALCE skips such
    questions in both averages).

    Recall per statement: 1 iff the judge finds the joined cited passages (``Title: t\\ntext``, joined
    with newlines, at most ``at_most_citations``) entail the statement without its markers; 0 with no
    citation or any citation beyond ``docs``. Precision: for a supported statement with more than one
    citation, a citation is irrelevant when its passage alone does not entail the statement and the
    other cited passages together do; a single citation counts with the statement's recall.

    ``alce_exact``: ALCE's sentence splitting and ``[n`` regex (``[1, 2]`` is [1], duplicates kept);
    otherwise the robust ``parse_answer`` reading (markers after the stop attached, ranges, duplicates
    removed, any invalid number -> recall 0).
    """
    if at_most_citations < 1:
        raise RagError(f"at_most_citations must be >= 1, got {at_most_citations}")
    stmts = _statements(output, len(docs), at_most_citations, alce_exact)
    if not stmts:
        return None
    formatted = [_format_doc(d) for d in docs]

    def premise(refs: list[int]) -> str:
        return "\n".join(formatted[r] for r in refs)

    cited = [(i, h, refs) for i, (h, refs) in enumerate(stmts) if refs is not None]
    verdicts = _judge_unique(judge, [(premise(refs), h) for _, h, refs in cited])
    recall = [0] * len(stmts)
    for (i, _, _), ok in zip(cited, verdicts, strict=True):
        recall[i] = int(ok)

    n_citations = sum(len(refs) for _, _, refs in cited)
    correct = 0
    multi: list[tuple[str, list[int], int]] = []  # (hypothesis, refs, position)
    for i, h, refs in cited:
        if not recall[i]:
            continue
        if len(refs) == 1:
            correct += 1
        else:
            multi.extend((h, refs, pos) for pos in range(len(refs)))
    alone = _judge_unique(judge, [(formatted[refs[pos]], h) for h, refs, pos in multi])
    need_rest = [m for m, ok in zip(multi, alone, strict=True) if not ok]
    correct += sum(alone)
    rest_pairs = []
    for h, refs, pos in need_rest:
        others = list(refs)
        others.remove(refs[pos])  # ALCE removes the first occurrence of that doc
        rest_pairs.append((premise(others), h))
    rest = _judge_unique(judge, rest_pairs)
    correct += sum(1 for ok in rest if not ok)  # irrelevant only when the others suffice

    return CitationScores(
        recall=sum(recall) / len(recall),
        precision=correct / n_citations if n_citations else 0.0,
        n_statements=len(stmts),
        n_citations=n_citations,
        statement_recall=tuple(recall),
    )


def faithfulness(output: str, docs: Sequence[dict], judge: EntailmentJudge) -> float | None:
    """Fraction of statements entailed by ALL given passages joined (citations ignored).

    The project's own RAGAS-style metric. Statements are read with ``parse_answer`` (markers
    removed). ``None`` when the output has no statement; 0.0 for every statement when ``docs`` is
    empty.
    """
    statements = parse_answer(output, len(docs))
    if not statements:
        return None
    if not docs:
        return 0.0
    everything = "\n".join(_format_doc(d) for d in docs)
    verdicts = _judge_unique(judge, [(everything, st.text) for st in statements])
    return sum(verdicts) / len(verdicts)


# ---------------------------------------------------------------- per question and aggregate


@dataclass(frozen=True)
class QuestionScores:
    """All metrics of one question, each in [0, 1] (``length`` in words); ``None`` = not applicable."""

    id: str
    str_em: float
    str_hit: float
    rougeLsum: float
    length: int
    citation_recall: float | None
    citation_precision: float | None
    faithfulness: float | None


def _references(item: dict) -> list[str]:
    annotations = item.get("annotations")
    if annotations:
        # ALCE reads annotations[0] and annotations[1] (ASQA has two per question).
        return [a["long_answer"] for a in annotations[:2]]
    answer = item.get("answer")
    if isinstance(answer, str) and answer:
        return [answer]
    raise RagError("the item has neither 'annotations' with long_answer nor an 'answer' to score ROUGE against")


def score_question(
    item: dict,
    output: str,
    docs: Sequence[dict] | None,
    judge: EntailmentJudge | None,
    *,
    alce_exact: bool = True,
    cut_first_newline: bool | None = None,
    at_most_citations: int = 3,
) -> QuestionScores:
    """Score one generated answer against an ASQA item (``qa_pairs``, ``annotations``).

    ``output`` is the raw generation; it is pre-processed with ``prepare_output`` (cut at the first
    newline when ``cut_first_newline``, which defaults to ``alce_exact``). ``docs`` are the passages
    the generator saw; ``None`` (closed-book) or ``judge=None`` leaves the citation metrics and
    faithfulness ``None``. ``at_most_citations`` as in ``citation_scores``.
    """
    cut = alce_exact if cut_first_newline is None else cut_first_newline
    prepared = prepare_output(output, cut)
    plain = alce_remove_citations(prepared) if alce_exact else strip_citations(prepared)
    qa_pairs = item.get("qa_pairs") or []
    rec = prec = faith = None
    if docs is not None and judge is not None:
        cs = citation_scores(prepared, docs, judge, at_most_citations=at_most_citations, alce_exact=alce_exact)
        if cs is not None:
            rec, prec = cs.recall, cs.precision
        faith = faithfulness(prepared, docs, judge)
    return QuestionScores(
        id=str(item.get("id", item.get("sample_id", ""))),
        str_em=str_em(plain, qa_pairs),
        str_hit=str_hit(plain, qa_pairs),
        rougeLsum=rouge_lsum(plain, _references(item)),
        length=answer_length(plain),
        citation_recall=rec,
        citation_precision=prec,
        faithfulness=faith,
    )


def bootstrap_median(values: Sequence[float], seed: int = 0, n_samples: int = BOOTSTRAP_SAMPLES) -> float:
    """Median of ``n_samples`` bootstrap means, resampled as rouge-score's BootstrapAggregator does.

    Seeded (``numpy.random.RandomState(seed)``), so that after ``numpy.random.seed(seed)`` ALCE's
    ``compute_rouge`` gives the same number.
    """
    import numpy as np

    if not values:
        raise RagError("bootstrap_median needs at least one value")
    arr = np.asarray(values, dtype=float)
    rng = np.random.RandomState(seed)
    means = np.empty(n_samples)
    for i in range(n_samples):
        means[i] = arr[rng.choice(np.arange(len(arr)), size=len(arr))].mean()
    return float(np.percentile(means, 50))


def aggregate(scores: Sequence[QuestionScores], *, bootstrap_seed: int = 0) -> dict[str, float]:
    """Macro averages ×100 as ALCE reports them (``length`` in words, not ×100).

    Keys: ``n_questions``, ``length``, ``str_em``, ``str_hit``, ``rougeLsum`` (plain mean: the number
    to compare), ``rougeLsum_bootstrap`` (ALCE's bootstrap median, seeded); and, when at least one
    question has them, ``citation_rec`` / ``citation_prec`` (``n_citation_questions`` of them) and
    ``faithfulness`` (``n_faithfulness_questions``).
    """
    if not scores:
        raise RagError("aggregate needs at least one QuestionScores")
    n = len(scores)
    out: dict[str, float] = {
        "n_questions": float(n),
        "length": sum(s.length for s in scores) / n,
        "str_em": 100 * sum(s.str_em for s in scores) / n,
        "str_hit": 100 * sum(s.str_hit for s in scores) / n,
        "rougeLsum": 100 * sum(s.rougeLsum for s in scores) / n,
        "rougeLsum_bootstrap": 100 * bootstrap_median([s.rougeLsum for s in scores], seed=bootstrap_seed),
    }
    cited = [s for s in scores if s.citation_recall is not None]
    if cited:
        out["citation_rec"] = 100 * sum(s.citation_recall or 0.0 for s in cited) / len(cited)
        out["citation_prec"] = 100 * sum(s.citation_precision or 0.0 for s in cited) / len(cited)
        out["n_citation_questions"] = float(len(cited))
    faithful = [s.faithfulness for s in scores if s.faithfulness is not None]
    if faithful:
        out["faithfulness"] = 100 * sum(faithful) / len(faithful)
        out["n_faithfulness_questions"] = float(len(faithful))
    return out
