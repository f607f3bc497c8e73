"""The options ``rag ask``, ``rag serve`` and ``rag eval`` share: declared once, one spelling per flag, and one
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

from rag.cli.common import errors_as_exit
from rag.pipeline import PipelineConfig

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
    SharedOption(
        "k",
        int | None,
        typer.Option(None, "--k", "-k", help=f"Passages retrieved for the answer (default {_DEFAULT.k})."),
    ),
    SharedOption(
        "mode",
        str | None,
        typer.Option(None, "--mode", help=f"Retrieval: hybrid | bm25 | dense (default {_RETRIEVAL.mode})."),
    ),
    SharedOption(
        "settings",
        list[str],
        typer.Option(
            [],
            "--set",
            metavar="KEY=VALUE",
            help="Any other pipeline setting, e.g. --set prompt=quote --set retrieval.fusion=weighted "
            "--set evidence.reader=false (repeatable; an unknown key is an error).",
        ),
    ),
)
_NAMES = tuple(o.name for o in PIPELINE_OPTIONS)


def pipeline_config(*, k: int | None, mode: str | None, settings: list[str]) -> PipelineConfig:
    """The pipeline configuration the shared options describe: ``--set`` settings applied first
    (:meth:`PipelineConfig.with_settings`, validated), then ``-k`` and ``--mode`` whenever they are
    given (None: not given), so that a flag always wins over ``--set``."""
    config = _DEFAULT.with_settings(settings or [])
    if k is not None:
        config = replace(config, k=k)
    if mode is not None:
        config = replace(config, retrieval=replace(config.retrieval, mode=mode))
    return config


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
