"""What the evidence stage is told and what it returns: :class:`EvidenceConfig`, one chosen
sentence (:class:`Evidence`) and the whole choice (:class:`EvidenceSelection`)."""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import RagError


@dataclass(frozen=True)
class EvidenceConfig:
    """How evidence is chosen: at most ``max_sentences`` in all and ``per_passage`` from one
    passage, each at least ``min_words`` words long, ranked by the learned scorer
    (:mod:`rag.evidence.scorer`), none under ``min_probability``. Relevance, which only the gate
    reads, is cosine similarity plus ``lexical_weight`` times lexical overlap and ``type_weight``
    for the answer-type match; a question whose best sentence's relevance is under
    ``min_relevance`` is not answered from these passages. ``diversity`` is the MMR penalty.

    The generator is shown the first ``prompt_sentences`` chosen; the rest can only be quoted.
    With ``judge_on_evidence`` the attribution judge reads a passage that gave evidence as its
    title and evidence sentences only (a short premise, what the answer was written from) instead
    of the whole passage. With ``quote_words`` > 0 the composed answer is followed by the best
    evidence sentences, quoted word for word, while the answer stays within that many words
    (:func:`rag.finish.with_quotes`). With ``reader`` (and a ``read`` function given to
    :func:`rag.evidence.select_evidence`) the learned scorer's best ``reader_sentences`` whole
    candidates are read for the short answer first."""

    max_sentences: int = 8
    per_passage: int = 3
    min_words: int = 5
    lexical_weight: float = 0.5
    type_weight: float = 0.1
    diversity: float = 0.3
    duplicate_overlap: float = 0.7
    # Chosen by experiments/evidence-choice/gate_calibration.py: at 0.55, 96% of 200 tuning questions
    # pass and 16 of 20 off-topic questions are refused.
    min_relevance: float = 0.55
    judge_on_evidence: bool = False
    quote_words: int = 80
    # Sentences are chosen by the learned scorer (the probability that a sentence holds a short
    # answer), never one under ``min_probability``.
    min_probability: float = 0.05
    # The generator is shown the first ``prompt_sentences`` chosen (the rest are only quoted), so
    # the prompt stays as long as it was with four.
    prompt_sentences: int = 4
    # With a reader given to select_evidence (the pipeline's generator), the best
    # ``reader_sentences`` whole candidates are shown to it and the sentences that hold its short
    # answer gain the reader's weights (:mod:`rag.evidence.scorer`).
    reader: bool = True
    reader_sentences: int = 8
    # Added to a code example's log-odds when the question asks how to do something
    # (rag.evidence.code.with_code_bonus); chosen on the own-documents dev set.
    code_bonus: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_probability < 1.0:
            raise RagError(f"min_probability must lie in [0, 1), got {self.min_probability}")
        if self.prompt_sentences < 1:
            raise RagError(f"prompt_sentences must be at least 1, got {self.prompt_sentences}")
        if self.reader_sentences < 1:
            raise RagError(f"reader_sentences must be at least 1, got {self.reader_sentences}")
        if self.max_sentences < 1 or self.per_passage < 1:
            raise RagError(
                f"max_sentences and per_passage must be at least 1, got {self.max_sentences}, {self.per_passage}"
            )
        if self.quote_words < 0:
            raise RagError(f"quote_words must be at least 0, got {self.quote_words}")
        if not 0.0 < self.duplicate_overlap <= 1.0:
            raise RagError(f"duplicate_overlap must lie in (0, 1], got {self.duplicate_overlap}")


@dataclass(frozen=True)
class Evidence:
    """One chosen sentence: ``passage`` is its 1-based number among the given passages and
    ``passage.text[start:end] == text``; ``score`` is its relevance to the question. For a code
    example (:mod:`rag.evidence.code`) ``code_start`` is where in the passage its code begins,
    after the sentence that introduces it; for a table row (:mod:`rag.evidence.tables`)
    ``header`` is its table's header line; both None for prose."""

    passage: int
    start: int
    end: int
    text: str
    score: float
    code_start: int | None = None
    header: str | None = None


@dataclass(frozen=True)
class EvidenceSelection:
    """The chosen evidence in choice order, the best sentence's relevance, whether that
    relevance says the passages answer the question at all, and what the reader answered (None
    when no reader ran)."""

    evidence: tuple[Evidence, ...]
    relevance: float
    answered: bool
    reader_answer: str | None = None

    def passages(self) -> tuple[int, ...]:
        """The numbers of the passages that gave evidence, in passage order."""
        return tuple(sorted({e.passage for e in self.evidence}))
