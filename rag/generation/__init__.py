"""Generation: chat LMs behind one interface (llama.cpp and transformers), prompts."""

from rag.generation.base import Generation, GenerationConfig, Generator
from rag.generation.load import DEFAULT_GENERATOR, clear_generator_cache, load_generator

__all__ = [
    "DEFAULT_GENERATOR",
    "Generation",
    "GenerationConfig",
    "Generator",
    "clear_generator_cache",
    "load_generator",
]
