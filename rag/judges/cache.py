"""``CachedJudge``: any judge's verdicts kept on disk (append-only JSONL) and served from there."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from rag.files import iter_jsonl, slug
from rag.judges.base import Judge
from rag.paths import cache_dir as _default_cache_dir

logger = logging.getLogger(__name__)


class CachedJudge(Judge):
    """Wraps a judge; verdicts are kept on disk and served from there on later calls.

    One append-only JSONL file per judge (``<cache_dir>/<judge name>.jsonl``, default directory
    ``rag.paths.cache_dir() / "judge"``), one ``{"key", "verdict"}`` record a line, the key being
    the sha256 of (the judge's ``cache_id``, premise, hypothesis). A torn last line (an interrupted
    write) is skipped with a warning and the next write starts on a fresh line. No pickle.
    """

    def __init__(self, inner: Judge, cache_dir: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.official = inner.official
        self.batched = inner.batched
        self.dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir() / "judge"
        self.path = self.dir / f"{slug(inner.name, sep='_', limit=80)}.jsonl"
        self._verdicts: dict[str, bool] | None = None
        self._needs_newline = False
        self.hits = 0
        self.misses = 0

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    def key(self, premise: str, hypothesis: str) -> str:
        """The cache key of one pair."""
        blob = json.dumps([self.inner.cache_id, premise, hypothesis], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _read(self) -> dict[str, bool]:
        if self._verdicts is not None:
            return self._verdicts
        verdicts: dict[str, bool] = {}
        if self.path.is_file():
            data = self.path.read_bytes()
            self._needs_newline = bool(data) and not data.endswith(b"\n")
            for n, rec in iter_jsonl(self.path, skip_bad=True):
                try:
                    verdicts[str(rec["key"])] = bool(rec["verdict"])
                except (KeyError, TypeError):
                    logger.warning("skipping unreadable line %d of judge cache %s", n, self.path)
        self._verdicts = verdicts
        return verdicts

    def _append(self, records: list[tuple[str, bool]]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps({"key": k, "verdict": v}) + "\n" for k, v in records)
        if self._needs_newline:
            lines = "\n" + lines
            self._needs_newline = False
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()

    def close(self) -> None:
        self.inner.close()

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Cached verdicts where known; the inner judge answers the rest (in one batch)."""
        verdicts = self._read()
        keys = [self.key(p, h) for p, h in pairs]
        todo = [i for i, k in enumerate(keys) if k not in verdicts]
        todo_unique = list(dict.fromkeys(keys[i] for i in todo))
        self.hits += len(pairs) - len(todo)
        self.misses += len(todo)
        if todo_unique:
            first = {keys[i]: i for i in reversed(todo)}
            fresh = self.inner.entails_batch([pairs[first[k]] for k in todo_unique])
            if len(fresh) != len(todo_unique):
                raise RuntimeError(  # a bug in the inner judge, not bad input
                    f"judge {self.inner.name!r} returned {len(fresh)} verdicts for {len(todo_unique)} pairs"
                )
            new = [(k, bool(v)) for k, v in zip(todo_unique, fresh, strict=True)]
            verdicts.update(new)
            self._append(new)
        return [verdicts[k] for k in keys]


# --------------------------------------------------------------------------------------------
