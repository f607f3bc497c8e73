"""rag: answers from your own documents with inline citations, and the numbers to trust them.

The public API is re-exported here lazily, so ``import rag`` loads no model and no heavy library.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # result types
    "Passage": "rag.types",
    "Hit": "rag.types",
    "ScoredPassage": "rag.types",
    "Citation": "rag.types",
    "Statement": "rag.types",
    "Answer": "rag.types",
    # indexing
    "ChunkConfig": "rag.documents",
    "Document": "rag.documents",
    "load_documents": "rag.documents",
    "BM25Config": "rag.bm25",
    "DenseConfig": "rag.dense",
    "Embedder": "rag.dense",
    "IndexConfig": "rag.index",
    "Index": "rag.index",
    "build_index": "rag.index",
    "load_index": "rag.index",
    "add_to_index": "rag.index",
    # retrieval
    "RetrievalConfig": "rag.retrieval",
    "Retriever": "rag.retrieval",
    # generation
    "Generator": "rag.generation",
    "GenerationConfig": "rag.generation",
    "load_generator": "rag.generation",
    "resolve_generator": "rag.models",
    "resolve_embedder": "rag.models",
    # answers
    "PipelineConfig": "rag.pipeline",
    "Pipeline": "rag.pipeline",
    "parse_answer": "rag.citations",
    # citing
    "AttributionConfig": "rag.attribution",
    "attribute": "rag.attribution",
    # judging
    "Judge": "rag.judge",
    "load_judge": "rag.judge",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(import_module(module), name)
