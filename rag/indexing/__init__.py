"""Indexing: documents read and chunked, a BM25 index, a dense FAISS index, one directory on disk."""
