"""Running on a Ray cluster: which engine a command uses, and connecting to the cluster.

``rag index --engine ray`` and ``rag eval --engine ray`` hand their heavy stage (embedding,
answering) to Ray (https://docs.ray.io): Ray Data's ``map_batches`` with a pool of actors for
embedding, a pool of actors for answering. Ray is optional (``pip install "rag[distributed]"``);
nothing here imports it until a Ray engine is asked for.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from rag.errors import RagError
from rag.paths import INDEXES_ENV, indexes_dir

logger = logging.getLogger(__name__)

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class RayEngine:
    """Where and how wide to run: ``address`` of an existing cluster (``None``: the one named by
    ``$RAY_ADDRESS``, else a local cluster started for this process), ``workers`` actors (each
    loads its models once), ``gpus_per_worker`` (1 with ``--device cuda``), and ``cpus_per_worker``
    (each actor's torch / llama.cpp threads)."""

    address: str | None = None
    workers: int = 2
    cpus_per_worker: int = 1
    gpus_per_worker: float = 0.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise RagError(f"--workers must be at least 1, got {self.workers}")
        if self.cpus_per_worker < 1:
            raise RagError(f"cpus per worker must be at least 1, got {self.cpus_per_worker}")
        if self.gpus_per_worker < 0:
            raise RagError(f"gpus per worker must not be negative, got {self.gpus_per_worker}")


def engine_for(engine: str, *, address: str | None = None, workers: int = 2, device: str = "cpu") -> RayEngine | None:
    """The engine a command line names: ``None`` for ``local``, a :class:`RayEngine` for ``ray``.

    ``device`` is the resolved device (``cpu`` / ``cuda``); with ``cuda`` each worker gets one GPU.
    """
    name = (engine or "").strip().lower()
    if name not in ENGINES:
        raise RagError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if name == "local":
        if address is not None:
            raise RagError("--address needs --engine ray")
        return None
    return RayEngine(address=address, workers=workers, gpus_per_worker=1.0 if device == "cuda" else 0.0)


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`RagError` that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RagError('--engine ray needs Ray: pip install "rag[distributed]" (or "ray[data]")') from exc
    return ray


def connect(engine: RayEngine) -> Any:
    """Connect to the engine's cluster (once per process) and return the ``ray`` module.

    Without an address (and no ``$RAY_ADDRESS``) a local cluster starts with one CPU per worker
    (at least), no dashboard, and its logs kept out of the terminal.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = engine.address or os.environ.get("RAY_ADDRESS") or None
    # Ray's own notices would mix into rag's output.
    logging.getLogger("ray").setLevel(logging.ERROR)
    # Workers find the same packaged models without a hub, and the same rag folders ($RAG_CACHE,
    # $RAG_INDEXES, $RAG_SHARED_DATA, ...) as this process.
    forwarded = {k: v for k, v in os.environ.items() if k.startswith("RAG_") and k != "RAG_THREADS"}
    if not address:  # local workers may start elsewhere: name this process's index home
        forwarded.setdefault(INDEXES_ENV, str(indexes_dir().resolve()))
    env = {
        "env_vars": {
            **forwarded,
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "TOKENIZERS_PARALLELISM": "false",
        }
    }
    try:
        if address:
            ray.init(address=address, runtime_env=env, log_to_driver=False, logging_level=logging.ERROR)
        else:
            cpus = max(engine.workers * engine.cpus_per_worker, os.cpu_count() or 1)
            ray.init(
                num_cpus=cpus,
                include_dashboard=False,
                runtime_env=env,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray cluster"
        raise RagError(f"cannot start or reach {where}: {exc}") from exc
    _quiet_progress(ray)
    logger.info("ray %s: %s", ray.__version__, ray.cluster_resources())
    return ray


def is_local(engine: RayEngine) -> bool:
    """Whether the engine starts its own cluster on this machine (no address, no ``$RAY_ADDRESS``)."""
    return not (engine.address or os.environ.get("RAY_ADDRESS"))


def restarts(engine: RayEngine) -> dict[str, int]:
    """Actor options for a pool: on a local cluster a crashed actor is not restarted (the command
    fails, writing nothing, and Ray has no restart caveat to print); on a remote cluster, where a
    node may go away, Ray's defaults restart it."""
    return {"max_restarts": 0} if is_local(engine) else {}


def _quiet_progress(ray: Any) -> None:
    """Ray Data's own progress bars and plan logs would mix into rag's output."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.enable_operator_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    logging.getLogger("ray").setLevel(logging.ERROR)


def shutdown() -> None:
    """Disconnect from (and stop, when we started it) the Ray cluster, if connected."""
    try:
        import ray
    except ImportError:
        return
    if ray.is_initialized():
        ray.shutdown()
