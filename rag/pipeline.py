"""The answering pipeline: retrieve, prompt, generate, parse citations, optionally verify."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, NamedTuple

import numpy as np

from rag.citing.attribution import (
    DEFAULT_ATTRIBUTION_JUDGE,
    AttributionConfig,
    attribute,
    drop_unsupported,
    premise,
    quote_fallback,
    remap,
    render,
    renumber,
    support_spans,
    with_markers,
)
from rag.citing.citations import load_sentence_splitter, parse_answer
from rag.citing.cleanup import drop_junk
from rag.citing.evidence import (
    EvidenceConfig,
    EvidenceSelection,
    as_quote,
    evidence_passages,
    evidence_premises,
    select_evidence,
    with_quotes,
)
from rag.citing.selection import best_sample, score_sample
from rag.errors import RagError
from rag.generation import DEFAULT_GENERATOR, GenerationConfig, Generator, load_generator, prompts
from rag.generation.constraints import citation_grammar
from rag.indexing.dense import Embedder
from rag.indexing.store import Index, load_index, resolve_index_path
from rag.judges import Judge, load_judge
from rag.retrieval import RetrievalConfig, Retriever
from rag.types import Answer, Passage, ScoredPassage, Statement

log = logging.getLogger(__name__)

PROMPT_STYLES = ("default", "quote", "evidence", "alce")
#: The most passages a question may be given (more do not fit a small model's context).
MAX_K = 100
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
CITE_MODES = ("model", "posthoc")


@dataclass(frozen=True)
class PipelineConfig:
    """How a question is answered.

    ``k`` passages are retrieved; ``prompt`` is ``"default"`` (the project's own),
    ``"quote"`` (the project's, asking for sentences copied from the passages), ``"evidence"``
    (the passages reduced to the sentences that bear on the question, ``evidence`` says how they
    are chosen, and a short composed answer; when no sentence bears on the question the answer
    says so, ``Answer.answered`` False) or ``"alce"`` (ALCE's instruction and one demonstration,
    for comparability).
    ``constrain_citations``: with the project's prompts, decode under a grammar that makes every
    sentence end with citations to given passages (``rag.generation.constraints``; measured on the 0.5B:
    17% of sentences cited without it, 100% with it, eval/generators/README.md). Backends that
    cannot constrain decoding ignore it with a warning.

    ``cite``: ``"model"`` keeps the generator's own citations; ``"posthoc"`` replaces them with
    the smallest set of given passages that the *attribution judge* says entails each statement
    (``rag.citing.attribution``). ``samples`` > 1 draws that many answers (the first greedy, the rest at
    ``sample_temperature``) and keeps the one with the best citation recall by the attribution
    judge (``rag.citing.selection``). ``hide_unsupported`` removes the statements that are not supported
    from the answer text (they stay in ``Answer.hidden``); with ``quote_fallback``, an answer left
    with no statement becomes the passage sentences nearest the question, quoted and cited
    (``rag.citing.attribution.quote_fallback``). The attribution judge is by default a
    different model from the evaluation judge, so that the system does not grade itself.
    """

    k: int = 5
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    prompt: str = "evidence"
    constrain_citations: bool = False
    cite: str = "posthoc"
    samples: int = 1
    sample_temperature: float = 0.7
    hide_unsupported: bool = True
    quote_fallback: bool = True
    attribution_judge: str = DEFAULT_ATTRIBUTION_JUDGE
    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_K:
            raise RagError(f"k must be between 1 and {MAX_K} passages, got {self.k}")
        if self.prompt not in PROMPT_STYLES:
            raise RagError(f"unknown prompt {self.prompt!r}; choose one of {', '.join(PROMPT_STYLES)}")
        if self.cite not in CITE_MODES:
            raise RagError(f"unknown citation mode {self.cite!r}; choose one of {', '.join(CITE_MODES)}")
        if self.samples < 1:
            raise RagError(f"samples must be at least 1, got {self.samples}")
        if self.sample_temperature <= 0:
            raise RagError(f"sample_temperature must be > 0, got {self.sample_temperature}")

    @property
    def needs_attribution_judge(self) -> bool:
        """Whether answering asks the attribution judge (post-hoc citing, best-of-n or hiding)."""
        return self.cite == "posthoc" or self.samples > 1 or self.hide_unsupported

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON types (tuples become lists); :meth:`from_dict` reads it back."""
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineConfig:
        """The config saved by :meth:`to_dict`; a missing field takes its default, an unknown one
        is an error (it would change answers in a way this version cannot reproduce)."""
        nested = {
            "retrieval": RetrievalConfig,
            "generation": GenerationConfig,
            "attribution": AttributionConfig,
            "evidence": EvidenceConfig,
        }
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RagError(f"unknown pipeline setting(s) {', '.join(unknown)}; this version of rag has {sorted(known)}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in nested:
                sub = nested[key]
                sub_known = {f.name for f in fields(sub)}
                bad = sorted(set(value) - sub_known)
                if bad:
                    raise RagError(f"unknown {key} setting(s) {', '.join(bad)}")
                values[key] = sub(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
            else:
                values[key] = value
        return cls(**values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class Draft(NamedTuple):
    """One generated answer, cited as configured, with its timings (seconds)."""

    text: str
    statements: tuple[Statement, ...]
    time_to_first_token: float
    generation_s: float
    attribution_s: float


class Context(NamedTuple):
    """What the generator is shown: ``passages`` (the given ones, or with the ``evidence`` prompt
    those that hold evidence, cut to it), each one's number among the given passages, and the
    evidence selection (None without the ``evidence`` prompt); ``judged`` are the given passages
    as the attribution judge reads them (cut to their evidence with ``judge_on_evidence``)."""

    passages: tuple[Passage, ...]
    numbers: tuple[int, ...]
    selection: EvidenceSelection | None
    judged: tuple[Passage, ...]


class Shown(NamedTuple):
    """What the user is shown of a draft: the text and statements kept, those hidden as
    unsupported, and whether the text is the quote fallback."""

    text: str
    statements: tuple[Statement, ...]
    hidden: tuple[Statement, ...]
    fallback: bool


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

    def retrieve(self, question: str) -> list[ScoredPassage]:
        """The top ``k`` passages for a question, fused from BM25 and dense search."""
        return self.retriever.retrieve(question, self.config.k)

    def _messages(self, question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
        return _messages(self.config, question, passages)

    def _generation_for(self, passages: Sequence[Passage]) -> GenerationConfig:
        """The generation settings for one answer: the citation grammar added when it applies."""
        cfg = self.config.generation
        if self.config.constrain_citations and self.config.prompt != "alce" and passages and cfg.grammar is None:
            cfg = replace(cfg, grammar=citation_grammar(len(passages)))
        return cfg

    @property
    def attribution_judge(self) -> Judge:
        """The judge that picks citations and samples (``config.attribution_judge``), loaded on
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

    def _context(self, question: str, plain: Sequence[Passage]) -> Context:
        """The passages the generator sees (see :class:`Context`)."""
        if self.config.prompt != "evidence" or not plain:
            return Context(tuple(plain), tuple(range(1, len(plain) + 1)), None, tuple(plain))
        selection = select_evidence(question, plain, embed=self._embed, config=self.config.evidence, read=self._read)
        shown = self.config.evidence.prompt_sentences
        reduced, numbers = evidence_passages(plain, selection, shown)
        judged = evidence_premises(plain, selection, shown) if self.config.evidence.judge_on_evidence else plain
        return Context(tuple(reduced), tuple(numbers), selection, tuple(judged))

    def _one_answer(
        self,
        question: str,
        plain: Sequence[Passage],
        context: Context,
        sample: int,
        on_token: Callable[[str], None] | None,
    ) -> Draft:
        """Generate one answer (sample 0 greedy, later ones sampled) from what ``context`` shows,
        drop cut-off and repeated sentences, and cite it against the given passages as configured."""
        cfg = self._generation_for(context.passages)
        if sample > 0:
            cfg = replace(cfg, temperature=self.config.sample_temperature, seed=cfg.seed + sample)
        self._ready("rag")
        gen = self.generator.generate(self._messages(question, context.passages), cfg, on_token)
        parsed = remap(parse_answer(gen.text, len(context.passages)), context.numbers)
        cleaned = drop_junk(parsed, truncated=gen.completion_tokens >= cfg.max_tokens)
        statements = cleaned.statements
        # the generator's own text only when it numbers the given passages and nothing was dropped
        unchanged = statements == parsed and context.numbers == tuple(range(1, len(context.numbers) + 1))
        text = gen.text if unchanged else " ".join(st.raw for st in statements)
        t0 = time.perf_counter()
        judged = context.judged
        if self.config.cite == "posthoc" and plain:
            att = attribute(
                statements, judged, self.attribution_judge, config=self.config.attribution, embed=self._embed
            )
            statements, text = att.statements, att.text
        elif self.config.samples > 1 or self.config.hide_unsupported:
            statements = verify_statements(statements, judged, self.attribution_judge)
        return Draft(text, statements, gen.time_to_first_token, gen.total_time, time.perf_counter() - t0)

    def _drafts(
        self, question: str, plain: Sequence[Passage], context: Context, on_token: Callable[[str], None] | None
    ) -> tuple[list[Draft], int]:
        """``config.samples`` drafts (only the first streamed) and the index of the one kept."""
        drafts = [
            self._one_answer(question, plain, context, i, on_token if i == 0 else None)
            for i in range(self.config.samples)
        ]
        chosen = best_sample([score_sample(d.statements) for d in drafts]) if len(drafts) > 1 else 0
        return drafts, chosen

    def _fallback(self, question: str, plain: Sequence[Passage], context: Context) -> tuple[Statement, ...]:
        """Quoted sentences for an answer left empty: the two best evidence sentences, or without
        evidence selection the passage sentences nearest the question."""
        if context.selection is None:
            return quote_fallback(question, plain, embed=self._embed)
        texts = [(as_quote(e.text), e.passage) for e in context.selection.evidence[:2]]
        return tuple(
            Statement(text=t, raw=with_markers(t, (n,)), citations=(n,), verdict="supported") for t, n in texts
        )

    def _hide_unsupported(self, question: str, plain: Sequence[Passage], context: Context, draft: Draft) -> Shown:
        """The draft without its unsupported statements; an answer left empty quotes the passages
        (:meth:`_fallback`) when ``quote_fallback`` is on."""
        hidden = tuple(st for st in draft.statements if st.verdict != "supported")
        statements = drop_unsupported(draft.statements)
        text = render(statements) if self.config.cite == "posthoc" else " ".join(st.raw for st in statements)
        if not statements and self.config.quote_fallback and plain and not self._quotes_evidence(context):
            statements = self._fallback(question, plain, context)
            return Shown(render(statements), statements, hidden, bool(statements))
        return Shown(text, statements, hidden, False)

    def _quotes_evidence(self, context: Context) -> bool:
        return context.selection is not None and self.config.evidence.quote_words > 0

    def _with_quotes(self, context: Context, shown: Shown) -> Shown:
        """The shown answer followed by quoted evidence sentences (``EvidenceConfig.quote_words``);
        an answer that is only quotes counts as the quote fallback."""
        assert context.selection is not None
        if not shown.statements and not self.config.quote_fallback:
            return shown
        cfg = self.config.evidence
        statements, added = with_quotes(shown.statements, context.selection, cfg.quote_words, cfg.duplicate_overlap)
        if not added:
            return shown
        text = render(statements) if self.config.cite == "posthoc" else " ".join(st.raw for st in statements)
        return Shown(text, statements, shown.hidden, len(statements) == added)

    @staticmethod
    def _renumbered(shown: Shown, given: Sequence[ScoredPassage]) -> tuple[Shown, list[ScoredPassage]]:
        """Cited passages first, numbered in order of first citation (``renumber``); the hidden
        statements lose their citations (they cite nothing shown)."""
        statements, order = renumber(shown.statements, [sp.passage for sp in given])
        hidden = tuple(replace(st, citations=()) for st in shown.hidden)
        return Shown(render(statements), statements, hidden, shown.fallback), [given[old - 1] for old in order]

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
        ``on_token`` streams the first (greedy) draft; with post-hoc citing the final text differs.
        """
        question = check_question(question)
        if verify and self.judge is None:
            raise RagError("verification needs a judge (e.g. --judge llm)")
        t0 = time.perf_counter()
        if passages is None:
            given = self.retrieve(question)
        else:
            given = [ScoredPassage(p, 0.0, i + 1) for i, p in enumerate(passages)]
        timings = {"retrieval": time.perf_counter() - t0}
        plain = [sp.passage for sp in given]
        t1 = time.perf_counter()
        context = self._context(question, plain)
        if context.selection is not None:
            timings["evidence"] = time.perf_counter() - t1
            if not context.selection.answered:
                timings["total"] = time.perf_counter() - t0
                return Answer(question, NOT_ANSWERED, (), tuple(given), self.generator.name, timings, answered=False)
        drafts, chosen = self._drafts(question, plain, context, on_token)
        draft = drafts[chosen]
        shown = Shown(draft.text, draft.statements, (), False)
        if self.config.hide_unsupported:
            shown = self._hide_unsupported(question, plain, context, draft)
        if self._quotes_evidence(context):
            shown = self._with_quotes(context, shown)
        if self.config.cite == "posthoc" and plain:
            shown, given = self._renumbered(shown, given)
            plain = [sp.passage for sp in given]
        timings["time_to_first_token"] = drafts[0].time_to_first_token
        timings["generation"] = sum(d.generation_s for d in drafts)
        if self.config.needs_attribution_judge:
            timings["attribution"] = sum(d.attribution_s for d in drafts)
        statements = tuple(replace(st, support=support_spans(st, plain)) for st in shown.statements)
        if verify and self.judge is not None:
            t1 = time.perf_counter()
            statements = verify_statements(statements, plain, self.judge)
            timings["verification"] = time.perf_counter() - t1
        timings["total"] = time.perf_counter() - t0
        return Answer(
            question,
            shown.text,
            statements,
            tuple(given),
            self.generator.name,
            timings,
            hidden=shown.hidden,
            samples=len(drafts),
            chosen_sample=chosen,
            quoted_fallback=shown.fallback,
        )

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
