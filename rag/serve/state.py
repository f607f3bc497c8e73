"""What a running server holds: the models and indexes, loaded once, and the gate that lets one
question at a time use the generator while a bounded number wait.

Nothing here knows HTTP; :mod:`rag.serve.app` maps its outcomes to status codes:
:class:`NotReady` and :class:`QueueFull` to 503, :class:`rag.errors.RagError` to 422.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rag.errors import RagError
from rag.indexing.layout import list_indexes
from rag.indexing.store import Index, load_index
from rag.paths import indexes_dir
from rag.pipeline import Pipeline, PipelineConfig
from rag.types import Answer, Location

logger = logging.getLogger(__name__)

#: Pipeline settings a request may not change: the first would load other models, the second
#: would hand text from the network to the generator's native grammar parser.
FIXED_SETTINGS = ("attribution_judge", "generation.grammar")

#: The most a request may ask for of the settings whose cost grows with them, besides ``k`` and
#: ``generation.max_tokens`` (``ServeConfig.max_k``, ``max_tokens``); ``rag serve --max KEY=N``
#: raises them.
DEFAULT_LIMITS: dict[str, int] = {
    "retrieval.bm25_depth": 100,
    "retrieval.dense_depth": 100,
    "evidence.max_sentences": 32,
    "evidence.per_passage": 32,
    "evidence.prompt_sentences": 32,
    "evidence.reader_sentences": 32,
    "evidence.quote_words": 500,
    "attribution.candidates": 10,
    "attribution.max_set": 3,
}
#: Bounds on every other setting a request sends: whole numbers fit 32 bits, other numbers are
#: finite and at most this large, texts and lists are short.
_MAX_INT = 2**31 - 1
_MAX_FLOAT = 1e6
_MAX_TEXT = 200
_MAX_ITEMS = 16


class NotReady(Exception):
    """The models are still loading (or failed to load: ``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QueueFull(Exception):
    """Every slot is taken: one question is being answered and the queue is full."""


class Cancelled(Exception):
    """The client went away; the question was dropped."""


@dataclass(frozen=True)
class ServeConfig:
    """How ``rag serve`` runs.

    ``index``: the index loaded at start-up (requests may name any other index under the index
    home). ``queue``: questions that may wait while one is answered; one more gets a 503.
    ``max_k``: the most passages a request may ask for; ``max_tokens`` the most tokens it may
    let the generator write; ``limits`` the most of the other costly settings
    (:data:`DEFAULT_LIMITS`). ``token``: when set, every request must carry ``Authorization:
    Bearer <token>``. ``host``: the address bound; only it, ``localhost``, ``127.0.0.1``,
    ``[::1]`` and ``allowed_hosts`` are answered as ``Host`` (:mod:`rag.serve.guard`).
    ``max_body_kb``: the largest request body.
    """

    index: str = "default"
    generator: str | None = None
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    device: str = "auto"
    token: str | None = None
    queue: int = 4
    max_k: int = 20
    max_tokens: int = 1024
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    max_body_kb: int = 64

    def __post_init__(self) -> None:
        if self.queue < 0:
            raise RagError(f"queue must be >= 0, got {self.queue}")
        if self.token is not None and len(self.token) < 8:
            raise RagError("a --token must be at least 8 characters long")
        for name, value in (("max_k", self.max_k), ("max_tokens", self.max_tokens), ("max_body_kb", self.max_body_kb)):
            if value < 1:
                raise RagError(f"{name} must be at least 1, got {value}")
        unknown = sorted(set(self.limits) - set(DEFAULT_LIMITS))
        if unknown:
            raise RagError(f"no limit for {', '.join(unknown)}: limits are set for {', '.join(DEFAULT_LIMITS)}")
        if any(value < 1 for value in self.limits.values()):
            raise RagError("every limit must be at least 1")

    @property
    def caps(self) -> dict[str, int]:
        """The most a request may ask for, by setting (``k``, ``generation.max_tokens``, ...)."""
        return {"k": self.max_k, "generation.max_tokens": self.max_tokens, **DEFAULT_LIMITS, **self.limits}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "null"


def _check_value(key: str, value: Any, like: Any) -> None:
    """``value`` for the setting ``key`` has the type of its current value ``like`` and stays
    within the general bounds; :class:`RagError` (naming the setting, never echoing the value)."""
    if isinstance(like, bool):
        ok = isinstance(value, bool)
    elif isinstance(like, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and abs(value) > _MAX_INT:
            raise RagError(f"{key} is out of range (at most {_MAX_INT} in size)")
    elif isinstance(like, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and not (math.isfinite(value) and abs(value) <= _MAX_FLOAT):
            raise RagError(f"{key} must be a finite number of at most {_MAX_FLOAT:g} in size")
    elif isinstance(like, str) or like is None:
        ok = isinstance(value, str) or (like is None and value is None)
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            raise RagError(f"{key} is longer than {_MAX_TEXT} characters")
    elif isinstance(like, (list, tuple)):
        ok = isinstance(value, list)
        if ok:
            if len(value) > _MAX_ITEMS:
                raise RagError(f"{key} has more than {_MAX_ITEMS} items")
            item = like[0] if like else ""
            for part in value:
                _check_value(f"{key} item", part, item)
    else:
        ok = False
    if not ok:
        raise RagError(f"{key} must be {_kind(like)}, got {_kind(value)}")


def check_options(options: Mapping[str, Any], current: Mapping[str, Any], caps: Mapping[str, int]) -> None:
    """A request's pipeline ``options`` against the ``current`` settings (``PipelineConfig.to_dict``):
    none of :data:`FIXED_SETTINGS`, each of the type of the setting it replaces and within
    ``caps`` (and the general bounds); unknown names are left to ``PipelineConfig.from_dict``,
    which names them. :class:`RagError` says what is wrong."""

    def walk(values: Mapping[str, Any], like: Mapping[str, Any], prefix: str) -> None:
        for key, value in values.items():
            name = f"{prefix}{key}"
            if name in FIXED_SETTINGS:
                raise RagError(f"{name} cannot be changed per request: it is set when the server starts")
            if key not in like:
                continue
            if isinstance(like[key], Mapping):
                if not isinstance(value, Mapping):
                    raise RagError(f"{name} must be an object of settings, got {_kind(value)}")
                walk(value, like[key], f"{name}.")
                continue
            _check_value(name, value, like[key])
            cap = caps.get(name)
            if cap is not None and value > cap:
                raise RagError(f"{name} must be at most {cap} on this server, got {value}")

    walk(options, current, "")


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


class Server:
    """The loaded pipeline and the one-at-a-time gate in front of its generator."""

    def __init__(self, config: ServeConfig, loader: Callable[[], Pipeline] | None = None) -> None:
        self.config = config
        self._loader = loader or self._load_by_name
        self._base: Pipeline | None = None
        self._failed: str | None = None
        self._indexes: dict[str, Index] = {}
        self._index_lock = threading.Lock()
        self._model = threading.Lock()
        self._count = threading.Lock()
        self._admitted = 0
        #: questions dropped because their client went away (while waiting or generating)
        self.cancelled = 0
        self.load_seconds: float | None = None
        self.executor = ThreadPoolExecutor(max_workers=config.queue + 1, thread_name_prefix="rag-ask")

    # --- start-up ---
    def _load_by_name(self) -> Pipeline:
        c = self.config
        return Pipeline.from_names(c.index, c.generator, config=c.pipeline, device=c.device)

    def load(self) -> None:
        """Load the index, generator, embedder and attribution judge (run once, at start-up, in a
        thread: until it is done ``/health`` says loading). A failure is kept and reported."""
        t0 = time.perf_counter()
        try:
            pipe = self._loader()
            if pipe.index is not None:
                _ = pipe.index.embedder
                self._indexes[pipe.index.path.name] = pipe.index
            if pipe.config.needs_attribution_judge:
                _ = pipe.attribution_judge
        except (RagError, OSError) as exc:
            self._failed = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            logger.error("could not load the models: %s", self._failed)
            return
        self.load_seconds = time.perf_counter() - t0
        self._base = pipe
        index = f"index {pipe.index.path.name} ({len(pipe.index)} passages)" if pipe.index is not None else "no index"
        judge = f", attribution judge {pipe.config.attribution_judge}" if pipe.config.needs_attribution_judge else ""
        logger.info("loaded %s, generator %s%s in %.1f s: ready", index, pipe.generator.name, judge, self.load_seconds)

    @property
    def ready(self) -> bool:
        return self._base is not None

    def health(self) -> dict[str, Any]:
        base = self._base
        if base is None:
            return {"status": "failed" if self._failed else "loading", "detail": self._failed}
        return {
            "status": "ready",
            "index": base.index.path.name if base.index is not None else None,
            "generator": base.generator.name,
            "load_seconds": round(self.load_seconds or 0.0, 2),
            "busy": self._admitted,
            "queue": self.config.queue,
            "cancelled": self.cancelled,
        }

    def _ready_base(self) -> Pipeline:
        if self._base is None:
            raise NotReady(f"the models failed to load: {self._failed}" if self._failed else "the models are loading")
        return self._base

    # --- requests ---
    def indexes(self) -> list[dict[str, Any]]:
        """The indexes a request may name, and which is loaded."""
        loaded = set(self._indexes)
        default = self._base.index.path.name if self._base is not None and self._base.index is not None else None
        return [s.to_dict() | {"loaded": s.name in loaded, "default": s.name == default} for s in list_indexes()]

    def _index(self, name: str) -> Index:
        """An index by name, only among those under the index home (never a path from a request)."""
        with self._index_lock:
            if name in self._indexes:
                return self._indexes[name]
            known = {s.name for s in list_indexes()}
            if name not in known:
                raise RagError(f"unknown index {name!r}; known: {', '.join(sorted(known)) or '(none)'}")
            base = self._ready_base()
            device = base.index.device if base.index is not None else "cpu"
            index = load_index(indexes_dir() / name, device=device)
            self._indexes[name] = index
            return index

    def pipeline(
        self, index: str | None = None, k: int | None = None, options: Mapping[str, Any] | None = None
    ) -> Pipeline:
        """A pipeline for one request: the loaded models, the named index and the server's
        settings with the request's ``options`` (fields of :class:`PipelineConfig`) over them."""
        base = self._ready_base()
        options = dict(options or {})
        if k is not None:
            options["k"] = k
        current = base.config.to_dict()
        check_options(options, current, self.config.caps)
        try:
            config = PipelineConfig.from_dict(_merged(current, options)) if options else base.config
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # a check tripped on a value
            if isinstance(exc, RagError):
                raise
            raise RagError(f"a pipeline setting has a value this server cannot use ({type(exc).__name__})") from exc
        idx = base.index if index is None or (base.index is not None and index == base.index.path.name) else None
        if idx is None and index is not None:
            idx = self._index(index)
        judge = base.attribution_judge if config.needs_attribution_judge else None
        return Pipeline(base.generator, idx, config, attribution_judge=judge)

    def _loaded_index(self, name: str) -> Index:
        """A loaded index by name: the one loaded at start-up or one a request loaded."""
        base = self._ready_base()
        if base.index is not None and base.index.path.name == name:
            return base.index
        with self._index_lock:
            if name in self._indexes:
                return self._indexes[name]
        raise RagError(f"no loaded index {name!r}")

    def source_file(self, index: str, number: int) -> Path:
        """The ``number``-th file (0-based) of a loaded index's manifest: the only files the server
        hands out, read-only; nothing of the path comes from the request."""
        sources = self._loaded_index(index).manifest.get("sources", [])
        if not 0 <= number < len(sources):
            raise RagError(f"the index {index!r} has no source file {number}")
        path = Path(str(sources[number]["path"]))
        if not path.is_file():
            raise RagError(f"source file {number} of the index {index!r} is gone")
        return path

    @staticmethod
    def with_links(pipe: Pipeline, answer: dict[str, Any]) -> dict[str, Any]:
        """``answer`` (as ``Answer.to_dict`` gives it) with each passage's ``label`` ("R-intro.pdf
        p. 14 › Simple manipulations") and ``link``: where the page opens the original, at its page
        (PDF) or anchor (HTML); no link for passages without a source file (JSON Lines records)."""
        index = pipe.index
        if index is None:
            return answer
        numbers = {
            doc: n for n, entry in enumerate(index.manifest.get("sources", [])) for doc in entry.get("documents", [])
        }
        for entry in answer.get("passages", []):
            passage = entry["passage"]
            location = passage.get("location")
            if not location:
                continue
            passage["label"] = Location.from_dict(location).label()
            number = numbers.get(passage.get("doc_id"))
            if number is None:
                continue
            link = f"/source/{quote(index.path.name)}/{number}"
            if location.get("pages"):
                link += f"#page={int(location['pages'][0])}"
            elif location.get("anchor"):
                link += "#" + quote(str(location["anchor"]), safe="-_.:~")
            passage["link"] = link
        return answer

    def admit(self) -> None:
        """Take a slot for one question, or raise :class:`QueueFull` / :class:`NotReady`.
        Every admitted question must then go through :meth:`answer`, which frees the slot."""
        self._ready_base()
        with self._count:
            if self._admitted >= self.config.queue + 1:
                raise QueueFull()
            self._admitted += 1

    def answer(
        self,
        pipe: Pipeline,
        question: str,
        cancel: threading.Event,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer an admitted question when the generator is free (in a worker thread).

        Waiting, and generating, stop as soon as ``cancel`` is set (:class:`Cancelled`); the
        slot is freed however it ends.
        """
        try:
            while not self._model.acquire(timeout=0.05):
                if cancel.is_set():
                    raise Cancelled()
            try:
                if cancel.is_set():
                    raise Cancelled()

                def token(piece: str) -> None:
                    if cancel.is_set():
                        raise Cancelled()
                    if on_token is not None:
                        on_token(piece)

                return pipe.ask(question, on_token=token)
            finally:
                self._model.release()
        except Cancelled:
            with self._count:
                self.cancelled += 1
            raise
        finally:
            with self._count:
                self._admitted -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
