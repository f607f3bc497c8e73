"""Benchmark: exact (flat) vs approximate (HNSW) dense search with the project's DenseIndex.

Data: generated 384-d unit vectors. ``--data clustered`` (default) draws them around 1,000
random centres (centre + Gaussian noise, normalised), a stand-in for real embeddings, which
cluster by topic; ``--data uniform`` draws them uniformly on the sphere (no structure: the worst
case for any graph index). Queries are fresh draws from the same distribution. For each size:
build seconds, queries/second (one batch of all queries), recall@10 against the flat index,
and the index's size in bytes (its saved ``dense.faiss``, which is what is memory-mapped / held
in RAM). HNSW is measured at several ``ef_search`` values. Ratios are to flat, in this run.

    python benchmarks/bench_dense.py [--sizes 100000,1000000] [--queries 500] [--ef-construction 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384


def generate(n: int, rng: np.random.Generator, kind: str, centres: np.ndarray | None) -> np.ndarray:
    """``n`` unit vectors, generated in chunks to bound temporary memory."""
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        x = rng.standard_normal((m, DIM), dtype=np.float32)
        if kind == "clustered":
            assert centres is not None
            x = centres[rng.integers(0, len(centres), m)] + 0.08 * x  # noise ~ |centre| * 1.6
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[s : s + m] = x
    return out


def recall_at(approx: list, exact: list, k: int) -> float:
    hits = 0
    for a, e in zip(approx, exact, strict=True):
        hits += len({h.row for h in a[:k]} & {h.row for h in e[:k]})
    return hits / (k * len(exact))


def index_bytes(index) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp))
        return (Path(tmp) / "dense.faiss").stat().st_size


def main(argv: list[str] | None = None) -> int:
    from rag.indexing.dense import DenseConfig, DenseIndex

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--data", choices=("clustered", "uniform"), default="clustered")
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef-search", default="32,128", help="HNSW ef_search values to measure")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args(argv)
    import faiss

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    print(
        f"# bench_dense: {platform.machine()}, {os.cpu_count()} CPUs, faiss {faiss.__version__}, "
        f"{faiss.omp_get_max_threads()} OpenMP threads"
    )
    print(
        f"data: {args.data} {DIM}-d unit vectors; {args.queries} queries; k={args.k}; "
        f"HNSW M={args.hnsw_m}, ef_construction={args.ef_construction}\n"
    )
    print(
        f"{'n':>9} {'index':>16} {'build s':>8} {'q/s':>9} {'recall@10':>10} {'MiB':>8} "
        f"{'q/s vs flat':>12} {'size vs flat':>13}"
    )
    for n in [int(s) for s in args.sizes.split(",")]:
        data = generate(n, rng, args.data, centres)
        queries = generate(args.queries, rng, args.data, centres)
        t0 = time.perf_counter()
        flat = DenseIndex.build(data, DenseConfig(kind="flat"))
        t_flat_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        exact = flat.search(queries, args.k)
        flat_qps = args.queries / (time.perf_counter() - t0)
        flat_bytes = index_bytes(flat)
        print(
            f"{n:>9} {'flat':>16} {t_flat_build:>8.1f} {flat_qps:>9.1f} {1.0:>10.3f} "
            f"{flat_bytes / 2**20:>8.0f} {1.0:>11.2f}x {1.0:>12.2f}x"
        )
        sys.stdout.flush()
        del flat
        cfg = DenseConfig(kind="hnsw", hnsw_m=args.hnsw_m, ef_construction=args.ef_construction)
        t0 = time.perf_counter()
        hnsw = DenseIndex.build(data, cfg)
        t_build = time.perf_counter() - t0
        h_bytes = index_bytes(hnsw)
        for ef in [int(e) for e in args.ef_search.split(",")]:
            hnsw._hnsw().hnsw.efSearch = ef  # bench only: vary the search beam
            t0 = time.perf_counter()
            approx = hnsw.search(queries, args.k)
            qps = args.queries / (time.perf_counter() - t0)
            print(
                f"{n:>9} {f'hnsw ef={ef}':>16} {t_build:>8.1f} {qps:>9.1f} "
                f"{recall_at(approx, exact, args.k):>10.3f} {h_bytes / 2**20:>8.0f} "
                f"{qps / flat_qps:>11.2f}x {h_bytes / flat_bytes:>12.2f}x"
            )
            sys.stdout.flush()
        del hnsw, data
    print("\nrecall@10 = overlap of the HNSW top-10 with the exact top-10; MiB = saved index file.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
