"""Benchmark: `rag index --engine ray` against one process, on the same passages, in one run.

On the first ``--sample`` passages of the ASQA corpus (default 2,000):

* ``local``: ``build_index`` in this process (the embedder with torch's threads on every core);
* ``ray``: ``build_index(engine=RayEngine(workers=N))`` on a local Ray cluster, which is started
  (and timed) before the build, so the build's time is the cluster's work, not its start-up;
* equality: the two indexes' passages, the largest difference between a passage's two vectors,
  and, for the first ``--queries`` pooled-300 questions (the retrieval benchmark's queries), how
  many get the same top-10 passages from dense, BM25 and hybrid retrieval.

Prints passages/second of each and the ratio ray / local, both measured in this run, and the
ceiling of that ratio on this machine (cores / one process's core use).

    python benchmarks/bench_ray_index.py [--sample 2000] [--workers 2] [--queries 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """``$RAG_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    env = os.environ.get("RAG_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def use_data_dir(path: Path) -> Path:
    """``path`` if it holds the ASQA data (``asqa/``), else exit saying what to pass; the library
    calls that read the data themselves are pointed at it too (``$RAG_SHARED_DATA``)."""
    if not (path / "asqa").is_dir():
        sys.exit(f"no benchmark data at {path} (no asqa/ in it): pass --data-dir or set RAG_SHARED_DATA")
    os.environ["RAG_SHARED_DATA"] = str(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=2000, help="corpus passages (0: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queries", type=int, default=300, help="pooled-300 questions to compare top-10 on")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    asqa = use_data_dir(args.data_dir) / "asqa"

    import numpy as np
    import torch

    from rag.cluster import RayEngine, connect, shutdown
    from rag.evaluation.data import load_asqa
    from rag.indexing.store import build_index, load_index
    from rag.retrieval.retriever import RetrievalConfig, Retriever

    corpus = asqa / "corpus.jsonl"
    lines = corpus.read_text(encoding="utf-8").splitlines()
    lines = lines[: args.sample] if args.sample else lines
    print(
        f"# bench_ray_index: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads in the local build, {args.workers} Ray workers x 1 thread"
    )
    print(f"sample: first {len(lines)} passages of the ASQA corpus")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sample.jsonl"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        build_index([src], Path(tmp) / "local", device="cpu", show_progress=False)
        local_s = time.perf_counter() - t0

        engine = RayEngine(workers=args.workers)
        t0 = time.perf_counter()
        connect(engine)
        startup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_index([src], Path(tmp) / "ray", device="cpu", show_progress=False, engine=engine)
        ray_s = time.perf_counter() - t0
        shutdown()

        a, b = load_index(Path(tmp) / "local", device="cpu"), load_index(Path(tmp) / "ray", device="cpu")
        n = len(a)
        same_passages = [p.to_dict() for p in a.passages] == [p.to_dict() for p in b.passages]
        va, vb = a.dense._index.reconstruct_n(0, a.dense.ntotal), b.dense._index.reconstruct_n(0, b.dense.ntotal)
        max_diff = float(np.abs(va - vb).max())
        min_cos = float((va * vb).sum(axis=1).min())
        questions = [it.question for it in load_asqa(asqa / "asqa_dev.json", subset="pooled300")[: args.queries]]
        same = {}
        for mode in ("dense", "bm25", "hybrid"):
            ra, rb = Retriever(a, RetrievalConfig(mode=mode)), Retriever(b, RetrievalConfig(mode=mode))
            same[mode] = sum(
                [h.passage.id for h in ra.retrieve(q, 10)] == [h.passage.id for h in rb.retrieve(q, 10)]
                for q in questions
            )

    print()
    print(f"{'engine':<34}{'seconds':>9}{'passages/s':>12}")
    print(f"{'local (1 process)':<34}{local_s:>9.1f}{n / local_s:>12.1f}")
    print(f"{f'ray ({args.workers} workers), build':<34}{ray_s:>9.1f}{n / ray_s:>12.1f}")
    print(f"{'ray cluster start (not in build)':<34}{startup_s:>9.1f}")
    print()
    print(f"ratio ray / local (passages per second): {local_s / ray_s:.2f}x")
    print(
        f"ceiling on this machine: {os.cpu_count()} cores, and the local build already uses "
        f"{torch.get_num_threads()} threads, so about 1x (more workers than cores only split the same cores)"
    )
    print(f"passages identical, same rows: {same_passages} ({n} passages)")
    print(f"vectors: largest |difference| {max_diff:.2e}, smallest cosine between the two {min_cos:.6f}")
    print(f"same top-10 for {len(questions)} pooled-300 questions: " + ", ".join(f"{m} {c}" for m, c in same.items()))
    print(json.dumps({"local_s": local_s, "ray_s": ray_s, "startup_s": startup_s, "passages": n}))


if __name__ == "__main__":
    main()
