"""Where things live: the model cache, the index home, and (for evaluation only) the benchmark data.

Each location can be overridden by an environment variable; nothing is created at import.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.errors import MissingFileError

SHARED_DATA_ENV = "RAG_SHARED_DATA"
CACHE_ENV = "RAG_CACHE"
INDEXES_ENV = "RAG_INDEXES"


def benchmark_data_dir() -> Path:
    """The benchmark data (ASQA, ALCE's prompt files): the folder ``$RAG_SHARED_DATA`` names.

    Only evaluation, tests, benchmarks and experiments use it; answering never does. There is no
    default location: unset, this is a :class:`MissingFileError` that says what to set.
    """
    env = os.environ.get(SHARED_DATA_ENV)
    if not env:
        raise MissingFileError(
            f"the benchmark data is not set: set {SHARED_DATA_ENV} to the folder that holds asqa/ and "
            "alce-prompts/ (or pass the file with --data)"
        )
    return Path(env)


def cache_dir() -> Path:
    """Cache for assembled models and judge verdicts (``$RAG_CACHE`` or the user cache dir)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rag"))


def indexes_dir() -> Path:
    """Default home of named indexes (``$RAG_INDEXES`` or ``./indexes``)."""
    env = os.environ.get(INDEXES_ENV)
    return Path(env) if env else Path.cwd() / "indexes"
