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
    "ChunkConfig": "rag.indexing.documents",
    "Document": "rag.indexing.documents",
    "load_documents": "rag.indexing.documents",
    "BM25Config": "rag.indexing.bm25",
    "DenseConfig": "rag.indexing.dense",
    "Embedder": "rag.indexing.dense",
    "IndexConfig": "rag.indexing.index",
    "Index": "rag.indexing.index",
    "build_index": "rag.indexing.store",
    "load_index": "rag.indexing.store",
    "add_to_index": "rag.indexing.store",
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
    "PipelineConfig": "rag.config",
    "Pipeline": "rag.pipeline",
    "parse_answer": "rag.citing.citations",
    # citing
    "AttributionConfig": "rag.citing.attribution",
    "attribute": "rag.citing.attribution",
    # judging
    "Judge": "rag.judges",
    "load_judge": "rag.judges",
    # errors
    "RagError": "rag.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(import_module(module), name)
