"""A fixed prompt prefix's llama.cpp state, kept on disk so a new process need not evaluate it.

Every generator prompt starts with the same instructions (and every judge prompt with the
judge's); evaluating them is a few seconds of a cold ``rag ask`` on a 2-core CPU. :func:`prime`
leaves exactly a prefix's tokens evaluated in a ``llama_cpp.Llama``: read from disk when this
model, these context settings and these tokens were saved before, otherwise evaluated and saved.

Two files a prefix, no pickle, under ``cache_dir() / "prefix-states"``:

- ``KEY.json``: the format version, the token ids and the byte count of the state;
- ``KEY.state``: llama.cpp's own state bytes (``llama_state_get_data``: the KV cache of those
  tokens and the last token's logits).

``KEY`` is a hash of the model file (resolved path, size, modification time), the llama.cpp
binding's version, the context size, batch size and thread counts, and the tokens. A missing,
partial or unreadable pair of files is treated as absent (evaluated again and rewritten), so a
stale cache can cost time but never change an answer. A state is restored only into a context
that holds no tokens (new or reset: restoring replaces its whole memory), and a restored prefix
gives the same greedy answers and judge probabilities as an evaluated one
(``tests/test_kvcache.py``).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from rag.paths import cache_dir

logger = logging.getLogger(__name__)

Primed = Literal["kept", "disk", "evaluated"]

_FORMAT = 1


def prefix_dir() -> Path:
    """Where prefix states live (``cache_dir() / "prefix-states"``)."""
    return cache_dir() / "prefix-states"


def state_key(llama: Any, model_path: str | Path, tokens: Sequence[int]) -> str:
    """The file stem for ``tokens`` evaluated by ``llama`` (loaded from ``model_path``)."""
    import llama_cpp

    path = Path(model_path).resolve()
    stat = path.stat()
    params = llama.context_params
    parts = {
        "format": _FORMAT,
        "model": str(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "llama_cpp": llama_cpp.__version__,
        "n_ctx": llama.n_ctx(),
        "n_batch": llama.n_batch,
        "n_ubatch": int(params.n_ubatch),
        "threads": [int(params.n_threads), int(params.n_threads_batch)],
        "type_k": int(params.type_k),
        "type_v": int(params.type_v),
        "tokens": [int(t) for t in tokens],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:32]


def holds(llama: Any, tokens: Sequence[int]) -> bool:
    """Whether ``llama`` has evaluated exactly ``tokens`` so far."""
    return llama.n_tokens == len(tokens) and [int(t) for t in llama.input_ids[: len(tokens)]] == list(tokens)


def prime(
    llama: Any,
    model_path: str | Path,
    tokens: Sequence[int],
    *,
    directory: Path | None = None,
    save: bool = True,
) -> Primed:
    """Leave exactly ``tokens`` evaluated in ``llama``; say how: ``"kept"`` (it already held
    them), ``"disk"`` (restored from a saved state) or ``"evaluated"`` (and saved when ``save``).

    Restoring is tried only when the context holds no tokens (``n_tokens == 0``); otherwise the
    tokens are evaluated as usual. Disk errors are logged and never raised.
    """
    tokens = [int(t) for t in tokens]
    if not tokens:
        raise ValueError("prime() needs at least one token")
    if holds(llama, tokens):
        return "kept"
    folder = directory if directory is not None else prefix_dir()
    fresh = llama.n_tokens == 0
    key = ""
    try:
        key = state_key(llama, model_path, tokens)
    except OSError as exc:  # the model file is gone or unreadable: no key, no cache
        logger.warning("prefix state not cached (%s)", exc)
    if fresh and key and _restore(llama, folder, key, tokens):
        return "disk"
    llama.reset()
    llama.eval(tokens)
    if save and key:
        _save(llama, folder, key, tokens)
    return "evaluated"


def _restore(llama: Any, folder: Path, key: str, tokens: list[int]) -> bool:
    import llama_cpp

    meta_path, state_path = folder / f"{key}.json", folder / f"{key}.state"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = state_path.read_bytes()
    except (OSError, ValueError):
        return False
    if meta.get("format") != _FORMAT or meta.get("tokens") != tokens or meta.get("n_bytes") != len(data):
        return False
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    if llama_cpp.llama_state_set_data(llama._ctx.ctx, buf, len(data)) != len(data):
        llama.reset()
        return False
    llama.input_ids[: len(tokens)] = tokens
    llama.n_tokens = len(tokens)
    # the logits now in the context came from a restored state, not a live decode: llama-cpp-python
    # then re-evaluates rather than sampling straight away (as after its own load_state)
    llama._requires_eval = True
    return True


def _save(llama: Any, folder: Path, key: str, tokens: list[int]) -> None:
    import llama_cpp

    ctx = llama._ctx.ctx
    size = llama_cpp.llama_state_get_size(ctx)
    buf = (ctypes.c_uint8 * size)()
    n_bytes = int(llama_cpp.llama_state_get_data(ctx, buf, size))
    if n_bytes <= 0 or n_bytes > size:
        logger.warning("llama.cpp gave no state to save (%d bytes)", n_bytes)
        return
    meta = {"format": _FORMAT, "tokens": tokens, "n_bytes": n_bytes}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # the state first, then its description: a reader never pairs a description with a partial state
        _write_atomic(folder / f"{key}.state", memoryview(buf)[:n_bytes].tobytes())
        _write_atomic(folder / f"{key}.json", json.dumps(meta).encode("utf-8"))
    except OSError as exc:
        logger.warning("prefix state not saved in %s (%s)", folder, exc)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
