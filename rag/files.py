"""Small file helpers shared by every stage: checksums, file-name slugs, JSONL reading and appending."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from rag.errors import MissingFileError, RagError

logger = logging.getLogger(__name__)

_BLOCK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """The sha256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def slug(text: str, sep: str = "-", limit: int | None = None, default: str = "judge") -> str:
    """``text`` as a file-name part: every character other than letters, digits, ``-``, ``_`` and
    ``.`` becomes ``sep``; leading and trailing ``sep`` are dropped; at most ``limit`` characters.

    >>> slug("llm:qwen2.5-1.5b")
    'llm-qwen2.5-1.5b'
    >>> slug("llm:qwen2.5-1.5b", sep="_")
    'llm_qwen2.5-1.5b'
    """
    kept = "".join(c if c.isalnum() or c in "-_." else sep for c in text).strip(sep)
    out = kept[:limit] if limit is not None else kept
    return out or default


def iter_jsonl(path: str | Path, *, skip_bad: bool = False, hint: str = "") -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of a JSONL file.

    A line that is not JSON raises :class:`RagError` naming the file and line (and ``hint``, what
    a line should look like), or with ``skip_bad`` is skipped with a warning (for caches, where a
    torn line only costs a recompute). A file that is not UTF-8 is a :class:`RagError` too.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"{p} not found")
    with p.open("rb") as fh:  # decoded line by line, so an encoding error names its line
        for n, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if not skip_bad:
                    raise RagError(f"{p}:{n}: not valid UTF-8: convert the file to UTF-8") from exc
                line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                if skip_bad:
                    logger.warning("skipping unreadable line %d of %s", n, p)
                    continue
                raise RagError(f"{p}:{n}: not valid JSON ({exc.msg}){'; ' + hint if hint else ''}") from exc
            yield n, value


def read_json(path: str | Path, what: str = "file") -> Any:
    """A JSON file's value; a missing file is :class:`MissingFileError` and a file that is not JSON
    a :class:`RagError`, each naming the file and ``what`` it is."""
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"{what} {p} not found")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RagError(f"{what} {p} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise RagError(f"{what} {p} is not valid UTF-8") from exc


def read_records(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The records of an append-only JSONL file (run answers, scores); ``[]`` when it is absent.

    A torn last line (no final newline: the process was killed while writing it) is ignored, and
    with ``repair`` cut from the file, so the next append starts on a fresh line.
    """
    p = Path(path)
    if not p.exists():
        return []
    data = p.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        logger.warning("%s: dropping a torn last line (%d bytes); it will be redone", p, len(data) - end)
        if repair:
            with p.open("r+b") as f:
                f.truncate(end)
    try:
        text = data[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RagError(f"{p} is not valid UTF-8 (byte {exc.start}); fix or remove the bad line") from exc
    records: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise RagError(f"{p} line {n} is not JSON ({e}); fix or remove that line, then --resume") from e
    return records


def append_record(f: IO[str], record: Mapping[str, Any]) -> None:
    """Append one JSON line to an open file and make it durable (flush and fsync)."""
    f.write(json.dumps(record, ensure_ascii=False) + "\n")
    f.flush()
    os.fsync(f.fileno())
