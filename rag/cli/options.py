"""The options ``rag ask`` and ``rag eval`` share: declared once, one spelling per flag, and one
builder of the :class:`rag.pipeline.PipelineConfig` they describe.

``@pipeline_options`` adds these options to a typer command and hands the command a single
``pipeline: PipelineConfig`` argument instead (validated, so a bad value is one clear line).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import typer

from rag.citing.attribution import DEFAULT_ATTRIBUTION_JUDGE
from rag.cli.common import errors_as_exit
from rag.errors import RagError
from rag.generation import GenerationConfig
from rag.pipeline import PipelineConfig
from rag.retrieval import RetrievalConfig

_DEFAULT = PipelineConfig()
_RETRIEVAL = _DEFAULT.retrieval


@dataclass(frozen=True)
class SharedOption:
    """One CLI option: the parameter name, its type, and the typer declaration."""

    name: str
    annotation: Any
    option: Any


# typer reads these annotations at run time, so they are real types, not strings.
PIPELINE_OPTIONS: tuple[SharedOption, ...] = (
    SharedOption("k", int, typer.Option(_DEFAULT.k, "--k", "-k", help="Passages given to the generator.")),
    SharedOption("mode", str, typer.Option(_RETRIEVAL.mode, "--mode", help="Retrieval: hybrid | bm25 | dense.")),
    SharedOption("fusion", str, typer.Option(_RETRIEVAL.fusion, "--fusion", help="Fusion: rrf | weighted.")),
    SharedOption("rrf_k", int, typer.Option(_RETRIEVAL.rrf_k, "--rrf-k", help="RRF constant (measured default).")),
    SharedOption(
        "weights",
        str,
        typer.Option(",".join(f"{w:g}" for w in _RETRIEVAL.weights), "--weights", help="Fusion weights 'BM25,DENSE'."),
    ),
    SharedOption("norm", str, typer.Option(_RETRIEVAL.norm, "--norm", help="Score normalisation for weighted fusion.")),
    SharedOption(
        "bm25_depth", int, typer.Option(_RETRIEVAL.bm25_depth, "--bm25-depth", help="Candidates taken from BM25.")
    ),
    SharedOption(
        "dense_depth",
        int,
        typer.Option(_RETRIEVAL.dense_depth, "--dense-depth", help="Candidates taken from dense search."),
    ),
    SharedOption(
        "prompt", str, typer.Option(_DEFAULT.prompt, "--prompt", help="Prompt: quote | evidence | default | alce.")
    ),
    SharedOption(
        "max_tokens", int, typer.Option(_DEFAULT.generation.max_tokens, "--max-tokens", help="Most tokens to generate.")
    ),
    SharedOption(
        "constrain",
        bool,
        typer.Option(
            _DEFAULT.constrain_citations,
            "--constrain/--no-constrain",
            help="Decode so that every sentence ends with citations \\[n].",
        ),
    ),
    SharedOption(
        "cite", str, typer.Option(_DEFAULT.cite, "--cite", help="Citations: posthoc | model (the generator's own).")
    ),
    SharedOption(
        "hide_unsupported",
        bool,
        typer.Option(
            _DEFAULT.hide_unsupported,
            "--hide-unsupported/--show-unsupported",
            help="Leave out statements no given passage supports (they are listed as hidden).",
        ),
    ),
    SharedOption(
        "quote_fallback",
        bool,
        typer.Option(
            _DEFAULT.quote_fallback,
            "--quote-fallback/--no-quote-fallback",
            help="An answer left empty quotes the passage sentences nearest the question.",
        ),
    ),
    SharedOption(
        "quote_words",
        int,
        typer.Option(
            _DEFAULT.evidence.quote_words,
            "--quote-words",
            help="With --prompt evidence: follow the answer with quoted evidence sentences up to N words (0: none).",
        ),
    ),
    SharedOption(
        "evidence_scorer",
        str,
        typer.Option(
            _DEFAULT.evidence.scorer,
            "--evidence-scorer",
            help="With --prompt evidence: how evidence sentences are chosen: learned | hand.",
        ),
    ),
    SharedOption(
        "reader",
        bool,
        typer.Option(
            _DEFAULT.evidence.reader,
            "--reader/--no-reader",
            help="With the learned scorer: the generator reads the best evidence sentences for the short answer first.",
        ),
    ),
    SharedOption(
        "samples",
        int,
        typer.Option(_DEFAULT.samples, "--samples", help="Draw N answers and keep the best-cited one."),
    ),
    SharedOption(
        "attribution_judge",
        str,
        typer.Option(
            DEFAULT_ATTRIBUTION_JUDGE,
            "--attribution-judge",
            help="Judge that picks citations (--cite posthoc), samples (--samples) and what to hide.",
        ),
    ),
)
_NAMES = tuple(o.name for o in PIPELINE_OPTIONS)


def parse_weights(text: str) -> tuple[float, float]:
    """``"1,3"`` as ``(1.0, 3.0)``; anything else is a :class:`RagError`."""
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 2:
        raise RagError(f"--weights takes two numbers 'BM25,DENSE', got {text!r}")
    return parts[0], parts[1]


def pipeline_config(
    *,
    k: int,
    mode: str,
    fusion: str,
    rrf_k: int,
    weights: str,
    norm: str,
    bm25_depth: int,
    dense_depth: int,
    prompt: str,
    max_tokens: int,
    constrain: bool,
    cite: str,
    hide_unsupported: bool,
    quote_fallback: bool,
    quote_words: int,
    evidence_scorer: str,
    reader: bool,
    samples: int,
    attribution_judge: str,
) -> PipelineConfig:
    """The pipeline configuration the shared options describe (validated by the dataclasses)."""
    retrieval = RetrievalConfig(
        mode=mode,
        fusion=fusion,
        rrf_k=rrf_k,
        weights=parse_weights(weights),
        norm=norm,
        bm25_depth=bm25_depth,
        dense_depth=dense_depth,
    )
    return replace(
        _DEFAULT,
        k=k,
        retrieval=retrieval,
        generation=GenerationConfig(max_tokens=max_tokens),
        prompt=prompt,
        constrain_citations=constrain,
        cite=cite,
        samples=samples,
        hide_unsupported=hide_unsupported,
        quote_fallback=quote_fallback,
        evidence=replace(_DEFAULT.evidence, quote_words=quote_words, scorer=evidence_scorer, reader=reader),
        attribution_judge=attribution_judge,
    )


F = TypeVar("F", bound=Callable[..., Any])


def pipeline_options(func: F) -> F:
    """Give a typer command the shared options; it receives them as ``pipeline: PipelineConfig``."""
    signature = inspect.signature(func)
    own = [p for name, p in signature.parameters.items() if name != "pipeline"]
    added = [
        inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.option, annotation=o.annotation)
        for o in PIPELINE_OPTIONS
    ]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        shared = {name: kwargs.pop(name) for name in _NAMES}
        with errors_as_exit():
            config = pipeline_config(**shared)
        return func(*args, pipeline=config, **kwargs)

    command.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    hints = {k: v for k, v in getattr(func, "__annotations__", {}).items() if k != "pipeline"}
    command.__annotations__ = hints | {o.name: o.annotation for o in PIPELINE_OPTIONS}
    return command  # type: ignore[return-value]
