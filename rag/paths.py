"""Where things live: shared benchmark data, the model cache, the index home.

Each location can be overridden by an environment variable; nothing is created at import.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA_ENV = "RAG_SHARED_DATA"
CACHE_ENV = "RAG_CACHE"
INDEXES_ENV = "RAG_INDEXES"


def shared_data_dir() -> Path:
    """The read-only benchmark data (``../shared/data`` beside a checkout, or ``$RAG_SHARED_DATA``)."""
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env)
    beside_checkout = Path(__file__).resolve().parents[2] / "shared" / "data"
    if beside_checkout.is_dir():
        return beside_checkout
    return Path.cwd().parent / "shared" / "data"


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


def nltk_data_dir() -> Path:
    """NLTK's punkt_tab data: ``$NLTK_DATA`` if set, else the copy in the shared data."""
    env = os.environ.get("NLTK_DATA")
    return Path(env.split(os.pathsep)[0]) if env else shared_data_dir() / "nltk_data"
