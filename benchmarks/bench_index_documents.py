"""Indexing real document collections: how fast each stage runs, and how the time splits.

For each folder given: reading (the readers: PDF, HTML, DOCX, EPUB, text) in documents/s and
pages/s, chunking into passages (passages/s), and embedding the passages (passages/s), each timed
alone in this process; then each stage's time as a ratio to embedding, the baseline measured in
the same run (embedding is what every index build pays whatever the format).

    python benchmarks/bench_index_documents.py DOCS/pdf DOCS/html --out benchmarks/bench_index_documents.txt
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from runinfo import opening_lines

from rag import ChunkConfig, Embedder
from rag.indexing.chunking import chunk_documents
from rag.indexing.documents import read_documents


def bench(folder: Path, embedder: Embedder, sample: int | None) -> list[str]:
    t0 = time.perf_counter()
    loaded = read_documents([folder])
    read_s = time.perf_counter() - t0
    docs = loaded.documents
    pages = sum(max((b.page or 0) for b in d.blocks) if d.blocks else 0 for d in docs)
    t0 = time.perf_counter()
    passages = chunk_documents(docs, ChunkConfig(), embedder.tokenizer, max_tokens=embedder.max_seq_length)
    chunk_s = time.perf_counter() - t0
    texts = [f"{p.title}\n{p.text}" for p in passages][:sample]
    t0 = time.perf_counter()
    embedder.encode(texts, batch_size=64)
    embed_s = (time.perf_counter() - t0) * (len(passages) / max(len(texts), 1))
    total = read_s + chunk_s + embed_s
    lines = [
        f"## {folder}: {len(docs)} documents, {pages} PDF pages, {len(passages)} passages, "
        f"{len(loaded.skipped)} skipped",
        f"{'stage':<10} {'seconds':>9} {'per second':>24} {'share':>7} {'ratio to embedding':>19}",
        f"{'reading':<10} {read_s:9.1f} {len(docs) / read_s:12.1f} docs/s {pages / read_s:6.1f} p/s "
        f"{read_s / total:6.1%} {read_s / embed_s:19.2f}",
        f"{'chunking':<10} {chunk_s:9.1f} {len(passages) / chunk_s:13.1f} passages/s {chunk_s / total:6.1%} "
        f"{chunk_s / embed_s:19.2f}",
        f"{'embedding':<10} {embed_s:9.1f} {len(passages) / embed_s:13.1f} passages/s {embed_s / total:6.1%} "
        f"{1.0:19.2f}",
    ]
    if sample is not None and sample < len(passages):
        lines.append(f"(embedding timed on the first {sample} passages and scaled to all {len(passages)})")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--sample", type=int, default=None, help="embed only the first N passages (time scaled)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = Embedder()
    embedder.encode(["warm up"])
    out = opening_lines()
    for folder in args.folders:
        out += bench(folder, embedder, args.sample)
    text = "\n".join(out) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
