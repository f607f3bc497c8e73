"""Benchmark runs: answer every question with each system, append as you go, resume.

The run directory's layout is :mod:`rag.evaluation.rundir`; scoring a finished run is
:mod:`rag.evaluation.scoring`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.cluster import RayEngine
from rag.device import resolve_device
from rag.errors import MissingFileError, RagError
from rag.evaluation.data import AsqaItem, load_asqa
from rag.evaluation.distributed import answer_on_ray
from rag.evaluation.rundir import (
    OUTPUTS,
    RunConfig,
    SystemSpec,
    answer_record,
    check_resume,
    read_outputs,
    write_config,
)
from rag.evaluation.tasks import Answerer, answer_item, make_pipelines
from rag.files import append_record
from rag.generation import clear_generator_cache
from rag.indexing.store import resolve_index_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_benchmark` did: answers written now, answers already there, the run dir."""

    run_dir: Path
    written: int
    skipped: int
    systems: tuple[str, ...] = field(default=())


def _tasks(
    config: RunConfig, items: Sequence[AsqaItem], done: set[tuple[str, str]]
) -> Iterator[tuple[SystemSpec, AsqaItem]]:
    for system in config.systems():
        for item in items:
            if (system.name, item.id) not in done:
                yield system, item


def _check_inputs(config: RunConfig, items: Sequence[AsqaItem], own_models: bool) -> None:
    if config.docs_from_file and any(it.docs is None for it in items):
        raise RagError(
            "--docs-from-file needs ALCE-format data with docs per question; "
            "pass --data with a file like asqa_eval_gtr_top100.json"
        )
    retrieves = not config.docs_from_file and any(s.kind == "rag" for s in config.systems())
    if retrieves and own_models and not resolve_index_path(str(config.index)).is_dir():
        raise MissingFileError(
            f"index {config.index!r} not found at {resolve_index_path(str(config.index))}: build it "
            "with `rag index PATH/TO/asqa/corpus.jsonl --name asqa`, "
            "or pass --index or --docs-from-file"
        )


def run_benchmark(
    config: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    pipeline_factory: Callable[[str], Answerer] | None = None,
    items: Sequence[AsqaItem] | None = None,
    progress: bool = True,
    device: str = "auto",
    engine: RayEngine | None = None,
) -> RunResult:
    """Answer every selected question with every system of ``config`` into ``run_dir``.

    ``pipeline_factory(generator_name)`` gives the object that answers for one generator (default:
    ``rag.pipeline.Pipeline``s sharing one index); it is called once per generator, and a model is
    dropped before the next is loaded. ``items`` overrides loading from ``config``. With
    ``engine`` the questions are answered by a pool of Ray actors
    (:mod:`rag.evaluation.distributed`), each loading its own models; answers are appended as
    they arrive, so a run can be resumed either way.
    Raises :class:`RagError` if the run already has answers and ``resume`` is false, or if
    ``resume`` is given with settings that differ from the run's.
    """
    run_dir = Path(run_dir)
    if items is None:
        items = load_asqa(config.data_path(), limit=config.limit, subset=config.subset, seed=config.seed)
    _check_inputs(config, items, own_models=pipeline_factory is None)
    out_path = run_dir / OUTPUTS
    if out_path.exists() and out_path.stat().st_size > 0 and not resume:
        raise RagError(f"{run_dir} already has answers; pass --resume to continue it or choose another --run")
    run_dir.mkdir(parents=True, exist_ok=True)
    if resume:
        check_resume(run_dir, config)
    done = {(r["system"], r["id"]) for r in read_outputs(out_path, repair=True)}
    write_config(run_dir, config, items, {})
    todo = list(_tasks(config, items, done))
    skipped = len(config.systems()) * len(items) - len(todo)
    if skipped:
        logger.info("resuming %s: %d answers already there, %d to go", run_dir, skipped, len(todo))
    if engine is not None:
        if pipeline_factory is not None:
            raise RagError("a pipeline factory runs in this process: it cannot be combined with a Ray engine")
        return _run_on_ray(config, run_dir, todo, skipped, engine, progress, resolve_device(device))
    factory = pipeline_factory or make_pipelines(config, device)
    written = 0
    bar = tqdm(total=len(todo), desc="answering", unit="q", disable=not progress, dynamic_ncols=True)
    pipes: dict[str, Answerer] = {}
    try:
        with out_path.open("a", encoding="utf-8") as f:
            for system, item in todo:
                if system.generator not in pipes:
                    pipes.clear()  # free the previous model before loading the next
                    pipes[system.generator] = factory(system.generator)
                bar.set_postfix_str(system.name)
                append_record(
                    f, answer_record(item, system, answer_item(pipes[system.generator], config, system, item))
                )
                written += 1
                bar.update(1)
    finally:
        bar.close()
        pipes.clear()
        if pipeline_factory is None:  # our own models: free them before a judge loads its own
            clear_generator_cache()
    return RunResult(run_dir, written, skipped, tuple(s.name for s in config.systems()))


def _run_on_ray(
    config: RunConfig,
    run_dir: Path,
    todo: Sequence[tuple[SystemSpec, AsqaItem]],
    skipped: int,
    engine: RayEngine,
    progress: bool,
    device: str,
) -> RunResult:
    bar = tqdm(total=len(todo), desc="answering (ray)", unit="q", disable=not progress, dynamic_ncols=True)
    try:
        with (run_dir / OUTPUTS).open("a", encoding="utf-8") as f:

            def write(record: dict[str, Any]) -> None:
                append_record(f, record)
                bar.update(1)

            written = answer_on_ray(config, todo, engine, write, device=device)
    finally:
        bar.close()
    return RunResult(run_dir, written, skipped, tuple(s.name for s in config.systems()))
