"""``load_generator``: a generator by registry short name, GGUF path, HF folder or id, cached."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from rag.errors import MissingFileError, RagError
from rag.generation.base import Generator
from rag.generation.hf import TransformersGenerator
from rag.generation.llamacpp import LlamaCppGenerator
from rag.models import resolve_generator

#: ``hf:NAME`` runs NAME (a registry name, GGUF path, HF folder or id) on transformers, the
#: batched GPU path, instead of llama.cpp.
HF_PREFIX = "hf"

# Chosen by experiments/generator-choice/bench_generators.py on the 2-core CPU (see its README).
DEFAULT_GENERATOR = "qwen2.5-0.5b"

#: What loading a model that is not one (a name, a file, a folder of something else) raises.
_LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError, IndexError)


def _cannot_load(name: str, reason: str) -> RagError:
    return RagError(
        f"cannot load the generator {name!r} ({reason}): give a packaged name (see `rag models`), a GGUF file, "
        "a transformers model folder, or a Hugging Face id (needs the internet)"
    )


_CACHE: OrderedDict[tuple[str, int, str], Generator] = OrderedDict()
_CACHE_SIZE = 3
_CACHE_LOCK = threading.Lock()


def load_generator(name: str = DEFAULT_GENERATOR, *, n_ctx: int = 4096, device: str = "auto") -> Generator:
    """A generator for a registry short name, a local GGUF/HF folder, or an HF id; GGUF files run
    on llama.cpp, unless the name is prefixed ``hf:`` (then transformers reads the GGUF).

    Loaded models are kept in a small cache keyed by (resolved path, n_ctx, device), so asking
    twice returns the same object. Beyond three, the least recently used is dropped from the
    cache (not closed: a caller may still hold it; it is freed when the last reference goes).
    """
    if not name or not name.strip():
        raise RagError("empty generator name; pass a registry name such as 'qwen2.5-0.5b'")
    backend, _, rest = name.partition(":")
    on_transformers = backend == HF_PREFIX and bool(rest.strip())
    resolved = resolve_generator(rest.strip() if on_transformers else name)
    key = (("hf:" if on_transformers else "") + resolved, n_ctx, device)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
        gen: Generator
        gguf = resolved.lower().endswith(".gguf")
        try:
            if gguf and not on_transformers:
                if not Path(resolved).is_file():
                    raise MissingFileError(f"GGUF model {resolved} not found")
                gen = LlamaCppGenerator(resolved, name=name, n_ctx=n_ctx)
            else:
                if Path(resolved).is_file() and not gguf:
                    raise _cannot_load(name, "a file, but not a GGUF model")
                gen = TransformersGenerator(resolved, name=name, n_ctx=n_ctx, device=device)
        except _LOAD_ERRORS as exc:
            if isinstance(exc, RagError):
                raise
            text = str(exc).strip()
            raise _cannot_load(name, text.splitlines()[0][:200] if text else type(exc).__name__) from exc
        _CACHE[key] = gen
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return gen


def clear_generator_cache() -> None:
    """Close and forget every cached generator."""
    with _CACHE_LOCK:
        while _CACHE:
            _, gen = _CACHE.popitem(last=False)
            gen.close()
