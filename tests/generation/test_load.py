"""rag.generation.load: the default generator is a packaged one, and a loaded generator is cached."""

from __future__ import annotations

from rag.generation import DEFAULT_GENERATOR, Generator, load_generator
from rag.generation.llamacpp import LlamaCppGenerator
from rag.models import REGISTRY


def test_default_generator_is_a_packaged_generator() -> None:
    assert REGISTRY[DEFAULT_GENERATOR].role == "generator"


def test_load_generator_caches() -> None:
    smol = load_generator("smollm2-135m", n_ctx=2048)
    assert isinstance(smol, LlamaCppGenerator) and isinstance(smol, Generator)
    assert load_generator("smollm2-135m", n_ctx=2048) is smol
    assert smol.name == "smollm2-135m" and smol.n_ctx == 2048
