"""Answering and scoring a benchmark's questions on a Ray cluster (``rag eval --engine ray``).

A pool of ``workers`` Ray actors, each with its own pipelines (index, generator, attribution
judge loaded once per actor, as :func:`rag.evaluation.runner.run_benchmark` loads them in one
process). Questions go out one at a time to whichever actor is free; each answer comes back to
the driver, which appends it to the run's ``outputs.jsonl`` as it arrives, so ``--resume`` and
re-scoring work unchanged (records are matched by system and question id, not by line order).
Decoding is greedy by default, so every answer equals the one a single process writes.

Scoring works the same way: a pool of actors, each loading the judge once (with the shared disk
cache of verdicts), score answer records; the driver appends each score line as it arrives.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rag.cluster import RayEngine, connect
from rag.evaluation.data import AsqaItem
from rag.evaluation.rundir import RunConfig, SystemSpec, answer_record, config_from_dict
from rag.evaluation.tasks import answer_item, make_pipelines, score_record
from rag.judges import load_judge

logger = logging.getLogger(__name__)


class AnswerActor:
    """One worker: loads its models on first use and answers (system, question) tasks."""

    def __init__(self, config: dict[str, Any], device: str, threads: int) -> None:
        _use_threads(threads)
        self._config = config_from_dict(config)
        self._factory = make_pipelines(self._config, device)
        self._pipes: dict[str, Any] = {}

    def answer(self, system: SystemSpec, item: AsqaItem) -> dict[str, Any]:
        if system.generator not in self._pipes:
            self._pipes.clear()  # free the previous model before loading the next
            self._pipes[system.generator] = self._factory(system.generator)
        return answer_record(item, system, answer_item(self._pipes[system.generator], self._config, system, item))


class ScoreActor:
    """One worker: loads the judge once (with its disk cache) and scores answer records."""

    def __init__(self, judge: str, threads: int, alce_exact: bool) -> None:
        _use_threads(threads)
        self._judge = load_judge(judge)
        self._alce_exact = alce_exact

    def score(self, item: AsqaItem, record: Mapping[str, Any]) -> dict[str, Any]:
        return score_record(item, record, self._judge, alce_exact=self._alce_exact)


def _use_threads(threads: int) -> None:
    """Keep a worker's models to its share of the cores."""
    os.environ["RAG_THREADS"] = str(max(1, threads))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch

        torch.set_num_threads(max(1, threads))
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def _pool_map(
    engine: RayEngine,
    actor_class: type,
    args: tuple[Any, ...],
    method: str,
    tasks: Sequence[tuple[Any, ...]],
    on_result: Callable[[dict[str, Any]], None],
) -> int:
    ray = connect(engine)
    from ray.util import ActorPool

    remote = ray.remote(num_cpus=engine.cpus_per_worker, num_gpus=engine.gpus_per_worker)(actor_class)
    actors = [remote.remote(*args) for _ in range(min(engine.workers, len(tasks)))]
    done = 0
    try:
        for result in ActorPool(actors).map_unordered(lambda a, t: getattr(a, method).remote(*t), list(tasks)):
            on_result(result)
            done += 1
    finally:
        for a in actors:
            ray.kill(a)
    logger.info("%s: %d tasks on %d Ray workers", method, done, len(actors))
    return done


def score_on_ray(
    tasks: Sequence[tuple[AsqaItem, Mapping[str, Any]]],
    judge: str,
    engine: RayEngine,
    on_line: Callable[[dict[str, Any]], None],
    *,
    alce_exact: bool = True,
) -> int:
    """Score ``(item, answer record)`` tasks on ``engine``'s cluster; ``on_line`` gets each score
    line as it arrives. Returns how many were scored."""
    if not tasks:
        return 0
    return _pool_map(engine, ScoreActor, (judge, engine.cpus_per_worker, alce_exact), "score", tasks, on_line)


def answer_on_ray(
    config: RunConfig,
    tasks: Sequence[tuple[SystemSpec, AsqaItem]],
    engine: RayEngine,
    on_record: Callable[[dict[str, Any]], None],
    *,
    device: str = "cpu",
) -> int:
    """Answer ``tasks`` on ``engine``'s cluster; ``on_record`` gets each answer record as it
    arrives (in completion order). Returns how many were answered. An actor's failure stops the
    run with what was answered so far already handed to ``on_record``."""
    if not tasks:
        return 0
    args = (config.to_dict(), device, engine.cpus_per_worker)
    return _pool_map(engine, AnswerActor, args, "answer", tasks, on_record)
