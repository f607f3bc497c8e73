"""Retrieval: BM25 and dense candidates fused (RRF or weighted) into the top passages."""

from rag.retrieval.retriever import RetrievalConfig, Retriever

__all__ = ["RetrievalConfig", "Retriever"]
