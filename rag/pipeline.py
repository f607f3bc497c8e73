"""The answering pipeline: retrieve → evidence → generate → cite → finish (→ verify).

:meth:`Pipeline.ask` tells the method's story: the passages are retrieved (``rag.retrieval``), cut
to the sentences that bear on the question (``rag.evidence``), the generator writes a short answer
from them (``rag.generation``), each statement is cited to the passages a judge says support it
(``rag.citing``), and the finishing stage decides what the user is shown (``rag.finish``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from rag.citing.attribution import (
    attribute,
    premise,
    remap,
    support_spans,
)
from rag.citing.citations import parse_answer
from rag.citing.cleanup import drop_junk
from rag.config import PipelineConfig
from rag.errors import RagError
from rag.evidence import EvidenceSelection, evidence_passages, evidence_premises, select_evidence
from rag.finish import Draft, finish
from rag.generation import DEFAULT_GENERATOR, Generation, GenerationConfig, Generator, load_generator, prompts
from rag.indexing.dense import Embedder
from rag.indexing.store import Index, load_index, resolve_index_path
from rag.judges import Judge, load_judge
from rag.retrieval import Retriever
from rag.text import load_sentence_splitter, topic_words
from rag.types import Answer, Passage, ScoredPassage, Statement

log = logging.getLogger(__name__)

#: The longest question accepted, in characters (a question, not a document).
MAX_QUESTION_CHARS = 2000


def check_question(question: str) -> str:
    """``question`` stripped; :class:`RagError` when it is empty or too long (checked before any
    model is loaded)."""
    text = question.strip() if isinstance(question, str) else ""
    if not text:
        raise RagError('the question is empty: ask something, e.g. rag ask "Who discovered radium?"')
    if len(text) > MAX_QUESTION_CHARS:
        raise RagError(
            f"the question is {len(text)} characters long; at most {MAX_QUESTION_CHARS} are accepted: "
            "ask a shorter question (to search your documents, index them with `rag index`)"
        )
    return text


#: What the answer says when no passage bears on the question (``Answer.answered`` is False).
NOT_ANSWERED = "The passages found do not answer this question."


@dataclass(frozen=True)
class Context:
    """What the generator is shown: ``passages`` (the given ones, or with the ``evidence`` prompt
    those that hold evidence, cut to it), each one's number among the given passages, and the
    evidence selection (None without the ``evidence`` prompt); ``judged`` are the given passages
    as the attribution judge reads them (cut to their evidence with ``judge_on_evidence``)."""

    passages: tuple[Passage, ...]
    numbers: tuple[int, ...]
    selection: EvidenceSelection | None
    judged: tuple[Passage, ...]


class _Clock:
    """The time each stage of one answer took (seconds), in the order the stages ran."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = time.perf_counter() - t0

    def done(self) -> dict[str, float]:
        """The timings with the ``total`` since the clock started."""
        self.timings["total"] = time.perf_counter() - self._start
        return self.timings


def verify_statements(
    statements: Sequence[Statement], passages: Sequence[Passage], judge: Judge
) -> tuple[Statement, ...]:
    """Mark each statement supported / unsupported by its cited passages, or uncited.

    One batched judge call for all cited statements.
    """
    pairs: list[tuple[str, str]] = []
    cited: list[int] = []
    for i, st in enumerate(statements):
        if st.citations and st.text.strip():
            pairs.append((premise([passages[n - 1] for n in st.citations]), st.text))
            cited.append(i)
    verdicts = judge.entails_batch(pairs) if pairs else []
    by_index = dict(zip(cited, verdicts, strict=True))
    out: list[Statement] = []
    for i, st in enumerate(statements):
        if i in by_index:
            out.append(replace(st, verdict="supported" if by_index[i] else "unsupported"))
        else:
            out.append(replace(st, verdict="uncited"))
    return tuple(out)


def _messages(config: PipelineConfig, question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    """The generator's chat messages for a question and the passages it is shown."""
    if config.prompt == "alce":
        return prompts.alce_messages(question, passages)
    return prompts.rag_messages(question, passages, style=config.prompt)


#: Greedy, one line: the reader's reply is a few short answers.
READER_GENERATION = GenerationConfig(max_tokens=32, temperature=0.0, stop=("\n",))


def prime_reader(generator: Generator) -> None:
    """Ready the beginning every reader prompt shares, so a reply does not depend on what was asked
    before it (``Generator.prime``)."""
    generator.prime([prompts.reader_messages(q, ["Alpha."]) for q in ("Who?", "When?")])


def read_answer(generator: Generator, question: str, sentences: Sequence[str]) -> str:
    """What ``generator`` reads as the short answer(s) to ``question`` in ``sentences``
    (``prompts.reader_messages``, greedy, one line of at most 32 tokens)."""
    return generator.generate(prompts.reader_messages(question, sentences), READER_GENERATION).text.strip()


def _prime(generator: Generator, config: PipelineConfig) -> str | None:
    """Ready the beginning every prompt of ``config`` shares (``Generator.prime``), found as the
    shared beginning of two probe prompts."""
    probes = [
        _messages(config, question, [Passage(id="probe", text=text, title=text)])
        for question, text in (("Who?", "Alpha."), ("When?", "Beta."))
    ]
    return generator.prime(probes)


def _primed_generator(name: str, device: str, config: PipelineConfig) -> Generator:
    generator = load_generator(name, device=device)
    _prime(generator, config)
    return generator


class Pipeline:
    """Answers questions from an index with a generator; the object behind ``rag ask``."""

    def __init__(
        self,
        generator: Generator,
        index: Index | None = None,
        config: PipelineConfig | None = None,
        judge: Judge | None = None,
        attribution_judge: Judge | None = None,
    ) -> None:
        self.generator = generator
        self.index = index
        self.config = config or PipelineConfig()
        self.judge = judge
        self._attribution_judge = attribution_judge
        self._retriever: Retriever | None = None
        self._embedder: Embedder | None = None
        self._primed: set[str] = set()  # prompt kinds whose shared beginning the generator has readied

    @classmethod
    def from_names(
        cls,
        index: str | None = "default",
        generator: str | None = None,
        *,
        config: PipelineConfig | None = None,
        judge: str | None = None,
        device: str = "auto",
    ) -> Pipeline:
        """Build a pipeline from names: an index name or path, a generator short name / path / HF id,
        and optionally a judge name (``rag.judges.load_judge``) for verifying statements.

        Ready to answer: the generator loads and readies its prompt prefix (:meth:`prime`) in a
        second thread while this one loads the index, its embedder and the sentence splitter
        (llama.cpp releases the GIL, so on two cores the loads overlap)."""
        cfg = config or PipelineConfig()
        where = resolve_index_path(index) if index is not None else None  # a bad name fails before loading
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-load") as pool:
            ready = pool.submit(_primed_generator, generator or DEFAULT_GENERATOR, device, cfg)
            load_sentence_splitter()  # every answer is split into sentences
            idx = None
            if where is not None:
                idx = load_index(where, device=device)
                _ = idx.embedder  # loaded now, not at the first question
            gen = ready.result()
        jdg = None
        if judge is not None:
            jdg = load_judge(judge)
        return cls(gen, idx, cfg, jdg)

    def prime(self) -> str | None:
        """Evaluate the fixed beginning of the generator's prompts (instructions and worked
        example) now, or restore it from the state an earlier process saved, so answers start
        after it; the first answer does this when nothing did before. Says how
        (``Generator.prime``)."""
        self._primed.add("rag")
        return _prime(self.generator, self.config)

    def _ready(self, kind: str) -> None:
        """Prime the generator once for a kind of prompt ("rag", "closed-book"): every answer is
        then evaluated as that prompt's shared beginning and the rest, so a greedy answer is the
        same whatever was asked before it (``LlamaCppGenerator``)."""
        if kind in self._primed:
            return
        if kind == "rag":
            self.prime()
        elif kind == "reader":
            self._primed.add(kind)
            prime_reader(self.generator)
        else:
            self._primed.add(kind)
            self.generator.prime([prompts.closed_book_messages(q) for q in ("Who?", "When?")])

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            if self.index is None:
                raise RagError("this pipeline has no index: build one with `rag index PATH` or pass passages")
            self._retriever = Retriever(self.index, self.config.retrieval)
        return self._retriever

    def missing_words(self, question: str) -> tuple[str, ...]:
        """The words naming what ``question`` is about (:func:`rag.text.topic_words`) that no passage
        of the index holds, so no answer can speak of them
        (:meth:`rag.indexing.bm25.BM25Index.unknown_words`); none without an index."""
        return tuple(self.index.bm25.unknown_words(topic_words(question))) if self.index is not None else ()

    def retrieve(self, question: str) -> list[ScoredPassage]:
        """The top ``k`` passages for a question, fused from BM25 and dense search."""
        return self.retriever.retrieve(question, self.config.k)

    def _messages(self, question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
        return _messages(self.config, question, passages)

    @property
    def attribution_judge(self) -> Judge:
        """The judge that picks citations and what to hide (``config.attribution_judge``), loaded on
        first use and cached on disk."""
        if self._attribution_judge is None:
            self._attribution_judge = load_judge(self.config.attribution_judge)
        return self._attribution_judge

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings for attribution's pre-selection (the index's embedder if any)."""
        if self._embedder is None:
            if self.index is not None:
                self._embedder = self.index.embedder
            else:
                self._embedder = Embedder()
        return self._embedder.encode(texts)

    def _read(self, question: str, sentences: Sequence[str]) -> str:
        """The generator as the evidence reader: its short answer(s) to ``question`` from
        ``sentences`` (:func:`read_answer`)."""
        self._ready("reader")
        return read_answer(self.generator, question, sentences)

    def ask(
        self,
        question: str,
        *,
        passages: Sequence[Passage] | None = None,
        on_token: Callable[[str], None] | None = None,
        verify: bool = False,
    ) -> Answer:
        """Answer ``question`` with inline citations.

        With ``passages`` given they are used as they are (no retrieval), e.g. ALCE's own docs.
        With ``verify`` (needs a judge) each statement gets a verdict against its citations.
        ``on_token`` streams the generator's draft; with post-hoc citing the final text differs.
        """
        question = check_question(question)
        if verify and self.judge is None:
            raise RagError("verification needs a judge (e.g. --judge llm)")
        clock = _Clock()
        with clock.stage("retrieval"):
            given = self.retrieve(question) if passages is None else self._given(passages)
        missing = self.missing_words(question) if passages is None else ()
        plain = [sp.passage for sp in given]
        context = self._evidence(question, plain, clock)
        if context.selection is not None and not context.selection.answered:
            return Answer(
                question,
                NOT_ANSWERED,
                (),
                tuple(given),
                self.generator.name,
                clock.done(),
                answered=False,
                missing_words=missing,
            )
        draft, generation = self._generate(question, context, on_token)
        clock.timings["time_to_first_token"] = generation.time_to_first_token
        clock.timings["generation"] = generation.total_time
        with clock.stage("attribution"):
            draft = self._cite(question, draft, context, plain)
        if not self.config.needs_attribution_judge:
            del clock.timings["attribution"]
        shown = finish(question, draft, given, context.selection, self.config.finish_policy, self._embed)
        shown_passages = [sp.passage for sp in shown.passages]
        statements = tuple(replace(st, support=support_spans(st, shown_passages)) for st in shown.statements)
        if verify and self.judge is not None:
            with clock.stage("verification"):
                statements = verify_statements(statements, shown_passages, self.judge)
        return Answer(
            question,
            shown.text,
            statements,
            shown.passages,
            self.generator.name,
            clock.done(),
            hidden=shown.hidden,
            quoted_fallback=shown.fallback,
            missing_words=missing,
        )

    @staticmethod
    def _given(passages: Sequence[Passage]) -> list[ScoredPassage]:
        return [ScoredPassage(p, 0.0, i + 1) for i, p in enumerate(passages)]

    def _evidence(self, question: str, plain: Sequence[Passage], clock: _Clock) -> Context:
        """The evidence stage: what the generator is shown (see :class:`Context`)."""
        if self.config.prompt != "evidence" or not plain:
            return Context(tuple(plain), tuple(range(1, len(plain) + 1)), None, tuple(plain))
        with clock.stage("evidence"):
            selection = select_evidence(
                question, plain, embed=self._embed, config=self.config.evidence, read=self._read
            )
        shown = self.config.evidence.prompt_sentences
        reduced, numbers = evidence_passages(plain, selection, shown)
        judged = evidence_premises(plain, selection, shown) if self.config.evidence.judge_on_evidence else plain
        return Context(tuple(reduced), tuple(numbers), selection, tuple(judged))

    def _generate(
        self, question: str, context: Context, on_token: Callable[[str], None] | None
    ) -> tuple[Draft, Generation]:
        """The generation stage: one greedy answer from what ``context`` shows, its citations
        numbered among the given passages, cut-off and repeated sentences dropped."""
        cfg = self.config.generation
        self._ready("rag")
        gen = self.generator.generate(self._messages(question, context.passages), cfg, on_token)
        parsed = remap(parse_answer(gen.text, len(context.passages)), context.numbers)
        statements = drop_junk(parsed, truncated=gen.completion_tokens >= cfg.max_tokens).statements
        # the generator's own text only when it numbers the given passages and nothing was dropped
        unchanged = statements == parsed and context.numbers == tuple(range(1, len(context.numbers) + 1))
        text = gen.text if unchanged else " ".join(st.raw for st in statements)
        return Draft(text, statements), gen

    def _cite(self, question: str, draft: Draft, context: Context, plain: Sequence[Passage]) -> Draft:
        """The citing stage: post-hoc attribution against the given passages, or (keeping the
        generator's citations) a verdict for each statement when unsupported ones are hidden."""
        if self.config.cite == "posthoc" and plain:
            att = attribute(
                draft.statements,
                context.judged,
                self.attribution_judge,
                config=self.config.attribution,
                embed=self._embed,
                question=question,
            )
            return Draft(att.text, att.statements)
        if self.config.hide_unsupported:
            return Draft(draft.text, verify_statements(draft.statements, context.judged, self.attribution_judge))
        return draft

    def closed_book(self, question: str, *, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer from the model's memory alone (the closed-book baseline)."""
        t0 = time.perf_counter()
        self._ready("closed-book")
        gen = self.generator.generate(prompts.closed_book_messages(question), self.config.generation, on_token)
        timings = {
            "retrieval": 0.0,
            "time_to_first_token": gen.time_to_first_token,
            "generation": gen.total_time,
            "total": time.perf_counter() - t0,
        }
        return Answer(question, gen.text, parse_answer(gen.text, 0), (), self.generator.name, timings)
