"""GPU check: dense search and embedding on the GPU give the CPU's results; both are timed.

Run it on a machine with a CUDA GPU (it exits 2 with one line where there is none):

    python eval/gpu_check.py                      # 1M x 384 generated unit vectors, 1,000 queries
    python eval/gpu_check.py --n 100000 --texts 512

It builds the same exact (flat) index on the CPU and with ``device="cuda"`` (faiss's GPU build
when it loads, else exact search in torch, fp16), searches the same queries, and reports how many
top-k lists agree, the largest score difference, and queries per second on each side with the
ratio. Then it embeds the same texts with the packaged embedder on the CPU and on the GPU and
reports the smallest cosine between the two and passages per second. fp16 on the GPU can swap
near-ties, so agreement is reported, not asserted.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _timed(fn, repeat: int = 3):  # noqa: ANN001, ANN202
    fn()  # warm-up (GPU kernels, caches)
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def check_search(n: int, dim: int, n_queries: int, k: int, seed: int) -> None:
    from rag.indexing.dense import DenseConfig, DenseIndex

    rng = np.random.default_rng(seed)
    vectors = _unit(rng.standard_normal((n, dim), dtype=np.float32))
    picks = rng.choice(n, size=n_queries, replace=False)
    queries = _unit(vectors[picks] + 0.3 * rng.standard_normal((n_queries, dim), dtype=np.float32))
    cpu = DenseIndex.build(vectors, DenseConfig(kind="flat"), device="cpu")
    gpu = DenseIndex.build(vectors, DenseConfig(kind="flat"), device="cuda")
    t_cpu, hits_cpu = _timed(lambda: cpu.search(queries, k), repeat=1)
    t_gpu, hits_gpu = _timed(lambda: gpu.search(queries, k))
    same_lists = np.mean([[h.row for h in a] == [h.row for h in b] for a, b in zip(hits_cpu, hits_gpu, strict=True)])
    same_top1 = np.mean([a[0].row == b[0].row for a, b in zip(hits_cpu, hits_gpu, strict=True)])
    same_sets = np.mean(
        [len({h.row for h in a} & {h.row for h in b}) / k for a, b in zip(hits_cpu, hits_gpu, strict=True)]
    )
    score_diff = max(
        abs(x.score - y.score) for a, b in zip(hits_cpu, hits_gpu, strict=True) for x, y in zip(a, b, strict=False)
    )
    print(f"dense search: {n:,} x {dim} unit vectors, {n_queries:,} queries, k={k}, GPU backend {gpu.backend}")
    print(f"  top-{k} lists identical      {same_lists:.4f}")
    print(f"  top-1 identical              {same_top1:.4f}")
    print(f"  top-{k} overlap (recall)     {same_sets:.4f}")
    print(f"  largest score difference     {score_diff:.2e}")
    print(f"  CPU {n_queries / t_cpu:12,.0f} q/s   GPU {n_queries / t_gpu:12,.0f} q/s   GPU/CPU {t_cpu / t_gpu:.1f}x")


def check_embedding(n_texts: int, seed: int) -> None:
    from rag.indexing.dense import Embedder

    rng = np.random.default_rng(seed)
    words = "river bridge music history engine coffee volcano island printing telegraph vaccine chess".split()
    texts = [" ".join(rng.choice(words, size=int(rng.integers(8, 120)))) for _ in range(n_texts)]
    cpu, gpu = Embedder(device="cpu"), Embedder(device="cuda")
    t_cpu, e_cpu = _timed(lambda: cpu.encode(texts), repeat=1)
    t_gpu, e_gpu = _timed(lambda: gpu.encode(texts))
    cosine = np.sum(e_cpu * e_gpu, axis=1)
    print(f"embedding: {n_texts} texts, CPU {cpu.precision} vs GPU {gpu.precision}")
    print(f"  smallest cosine CPU vs GPU   {cosine.min():.4f}   (mean {cosine.mean():.4f})")
    print(
        f"  CPU {n_texts / t_cpu:10,.0f} passages/s   GPU {n_texts / t_gpu:10,.0f} passages/s   "
        f"GPU/CPU {t_cpu / t_gpu:.1f}x"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="generated vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--texts", type=int, default=1024, help="texts to embed (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from rag.device import gpu_backend, resolve_device

    try:
        resolve_device("cuda")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import torch

    print(f"GPU: {torch.cuda.get_device_name(0)}; search backend available: {gpu_backend()}")
    check_search(args.n, args.dim, args.queries, args.k, args.seed)
    if args.texts:
        check_embedding(args.texts, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
