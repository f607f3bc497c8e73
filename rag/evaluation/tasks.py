"""One task of an evaluation run, wherever it runs: answer one question with one system
(:func:`answer_item`, pipelines from :func:`make_pipelines`) or score one answer record
(:func:`score_record`). The local runner (:mod:`rag.evaluation.runner`, :mod:`rag.evaluation.scoring`)
and the Ray workers (:mod:`rag.evaluation.distributed`) both call these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Protocol

from rag.evaluation import metrics
from rag.evaluation.data import AsqaItem
from rag.evaluation.rundir import RunConfig, SystemSpec
from rag.generation import load_generator
from rag.indexing.store import Index, load_index, resolve_index_path
from rag.judges import Judge, load_judge
from rag.pipeline import Pipeline
from rag.types import Answer, Passage


class Answerer(Protocol):
    """What a run needs from a pipeline (``rag.pipeline.Pipeline`` is one)."""

    def ask(self, question: str, *, passages: Sequence[Passage] | None = None) -> Answer: ...

    def closed_book(self, question: str) -> Answer: ...


def make_pipelines(config: RunConfig, device: str = "auto") -> Callable[[str], Answerer]:
    """Pipelines that share one loaded index (loaded only for generators that retrieve) and one
    attribution judge; each generator is loaded when first asked for."""
    retrieving = {s.generator for s in config.systems() if s.kind == "rag"}
    index: list[Index] = []
    judge: list[Judge] = []

    def make(generator: str) -> Answerer:
        use_index = generator in retrieving and not config.docs_from_file and config.index is not None
        if use_index and not index:
            index.append(load_index(resolve_index_path(str(config.index)), device=device))
        if config.pipeline.needs_attribution_judge and not judge:
            judge.append(load_judge(config.pipeline.attribution_judge))
        return Pipeline(
            load_generator(generator, device=device),
            index[0] if use_index else None,
            config.pipeline,
            attribution_judge=judge[0] if judge else None,
        )

    return make


def answer_item(pipe: Answerer, config: RunConfig, system: SystemSpec, item: AsqaItem) -> Answer:
    if system.kind == "closed-book":
        return pipe.closed_book(item.question)
    if config.docs_from_file:
        return pipe.ask(item.question, passages=list(item.docs or ())[: config.k])
    return pipe.ask(item.question)


def score_record(item: AsqaItem, rec: Mapping[str, Any], judge: Judge | None, *, alce_exact: bool) -> dict[str, Any]:
    """One answer record's score line (closed-book answers get no citation metrics)."""
    closed = rec.get("kind") == "closed-book"
    docs = (
        None
        if closed
        else [{"id": p.get("id"), "title": p.get("title", ""), "text": p.get("text", "")} for p in rec["passages"]]
    )
    qs = metrics.score_question(
        item.to_alce_dict(), rec["output"], docs, None if closed else judge, alce_exact=alce_exact
    )
    return {"system": rec["system"], **asdict(qs)}
