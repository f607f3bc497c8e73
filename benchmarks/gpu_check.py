"""GPU check: dense search and embedding on the GPU give the CPU's results; both are timed.

Run it on a machine with a CUDA GPU (it exits 2 with one line where there is none):

    python benchmarks/gpu_check.py                      # 1M x 384 generated unit vectors, 1,000 queries
    python benchmarks/gpu_check.py --n 100000 --texts 512
    python benchmarks/gpu_check.py --transformers       # + the batched transformers judge and generator

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


def check_embedding(n_texts: int, seed: int, embedder: str = "all-MiniLM-L6-v2") -> None:
    from rag.indexing.dense import Embedder

    rng = np.random.default_rng(seed)
    words = "river bridge music history engine coffee volcano island printing telegraph vaccine chess".split()
    texts = [" ".join(rng.choice(words, size=int(rng.integers(8, 120)))) for _ in range(n_texts)]
    cpu, gpu = Embedder(embedder, device="cpu"), Embedder(embedder, device="cuda")
    t_cpu, e_cpu = _timed(lambda: cpu.encode(texts), repeat=1)
    t_gpu, e_gpu = _timed(lambda: gpu.encode(texts))
    cosine = np.sum(e_cpu * e_gpu, axis=1)
    print(f"embedding: {n_texts} texts, CPU {cpu.precision} vs GPU {gpu.precision}")
    print(f"  smallest cosine CPU vs GPU   {cosine.min():.4f}   (mean {cosine.mean():.4f})")
    print(
        f"  CPU {n_texts / t_cpu:10,.0f} passages/s   GPU {n_texts / t_gpu:10,.0f} passages/s   "
        f"GPU/CPU {t_cpu / t_gpu:.1f}x"
    )


def generated_embedder(config_dir: str, seed: int) -> str:
    """A sentence-transformers folder with ``config_dir``'s architecture and tokenizer and weights
    drawn at random (seed ``seed``): for machines the real weights cannot reach. Speeds are the
    architecture's; CPU/GPU agreement is a property of the arithmetic, not of the weights."""
    import shutil
    import tempfile
    from pathlib import Path

    import torch
    from transformers import AutoConfig, AutoModel

    out = Path(tempfile.mkdtemp(prefix="generated-embedder-"))
    shutil.copytree(config_dir, out, dirs_exist_ok=True)
    torch.manual_seed(seed)
    AutoModel.from_config(AutoConfig.from_pretrained(config_dir)).save_pretrained(out)
    return str(out)


def check_corpus(path: str, embedder_name: str, n_cpu: int, n_queries: int, k: int, seed: int) -> None:
    """Embed a real corpus on the GPU (all of it) and on the CPU (the first ``n_cpu`` passages, as
    the index embeds them: title, newline, text), then search both ways with passages' own
    opening words as queries."""
    from rag.files import iter_jsonl
    from rag.indexing.dense import DenseConfig, DenseIndex, Embedder

    texts = [f"{r.get('title', '')}\n{r['text']}" for _, r in iter_jsonl(path)]
    gpu, cpu = Embedder(embedder_name, device="cuda"), Embedder(embedder_name, device="cpu")
    t_gpu, e_gpu = _timed(lambda: gpu.encode(texts, batch_size=256), repeat=1)
    sub = texts[:n_cpu]
    t_cpu, e_cpu = _timed(lambda: cpu.encode(sub), repeat=1)
    cosine = np.sum(e_cpu * e_gpu[:n_cpu], axis=1)
    print(f"corpus {path}: {len(texts):,} passages; embedder {embedder_name}")
    print(f"  GPU {gpu.precision}: {len(texts) / t_gpu:10,.0f} passages/s (all {len(texts):,}, batch 256)")
    print(
        f"  CPU {cpu.precision}: {n_cpu / t_cpu:10,.0f} passages/s (first {n_cpu:,}, batch 64)   "
        f"GPU/CPU {(len(texts) / t_gpu) / (n_cpu / t_cpu):.1f}x"
    )
    print(f"  smallest cosine CPU vs GPU on those {n_cpu:,}: {cosine.min():.4f} (mean {cosine.mean():.4f})")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(texts), size=min(n_queries, len(texts)), replace=False)
    queries = gpu.encode([" ".join(texts[i].split()[:12]) for i in picks])
    t_build_gpu, on_gpu = _timed(lambda: DenseIndex.build(e_gpu, DenseConfig(kind="flat"), device="cuda"), repeat=1)
    on_cpu = DenseIndex.build(e_gpu, DenseConfig(kind="flat"), device="cpu")
    t_s_gpu, hits_gpu = _timed(lambda: on_gpu.search(queries, k))
    t_s_cpu, hits_cpu = _timed(lambda: on_cpu.search(queries, k), repeat=1)
    same = np.mean([[h.row for h in a] == [h.row for h in b] for a, b in zip(hits_cpu, hits_gpu, strict=True)])
    own = np.mean([a[0].row == i for a, i in zip(hits_gpu, picks, strict=True)])
    print(f"  GPU index ({on_gpu.backend}) built in {t_build_gpu:.2f} s; {len(picks):,} queries, k={k}")
    print(f"  top-{k} lists identical CPU vs GPU {same:.4f}; query's own passage ranked first {own:.4f}")
    print(
        f"  search CPU {len(picks) / t_s_cpu:10,.0f} q/s   GPU {len(picks) / t_s_gpu:10,.0f} q/s   "
        f"GPU/CPU {t_s_cpu / t_s_gpu:.1f}x"
    )


def check_transformers(model: str, judge_model: str, pairs_path: str, n_pairs: int) -> None:
    """The transformers backend on the GPU: the batched ``hf:`` judge against the llama.cpp judge
    (CPU) on labelled pairs (agreement, pairs/s), and batched greedy generation (answers/s)."""
    import json

    from rag.generation.base import GenerationConfig
    from rag.generation.load import load_generator
    from rag.judges.causal import TransformersJudge
    from rag.judges.llm import LLMJudge

    rows = [json.loads(line) for line in open(pairs_path, encoding="utf-8") if line.strip()][:n_pairs]
    pairs = [(r["premise"], r["hypothesis"]) for r in rows]
    labels = np.array([bool(r["label"]) for r in rows])
    gpu = TransformersJudge(judge_model, device="cuda")
    gpu._load()
    t_gpu, p_gpu = _timed(lambda: gpu.probabilities(pairs), repeat=1)
    cpu = LLMJudge(judge_model)
    t_cpu, p_cpu = _timed(lambda: [cpu.probability(p, h) for p, h in pairs], repeat=1)
    v_gpu, v_cpu = np.array(p_gpu) >= gpu.threshold, np.array(p_cpu) >= cpu.threshold
    acc_gpu, acc_cpu = np.mean(v_gpu == labels), np.mean(v_cpu == labels)
    rate_gpu, rate_cpu = len(pairs) / t_gpu, len(pairs) / t_cpu
    print(f"judge {judge_model}: {len(pairs)} labelled pairs; GPU transformers batch {gpu.batch_size} vs CPU llama.cpp")
    print(f"  verdicts agree {np.mean(v_gpu == v_cpu):.3f}; accuracy GPU {acc_gpu:.3f}, CPU {acc_cpu:.3f}")
    print(f"  CPU {rate_cpu:8.2f} pairs/s   GPU {rate_gpu:8.2f} pairs/s   GPU/CPU {t_cpu / t_gpu:.1f}x")
    gen = load_generator(f"hf:{model}", device="cuda")
    questions = [[{"role": "user", "content": f"In one sentence: {r['hypothesis']} Is that true?"}] for r in rows]
    cfg = GenerationConfig(max_tokens=64)
    t_batch, out = _timed(lambda: gen.generate_batch(questions, cfg), repeat=1)
    tokens = sum(g.completion_tokens for g in out)
    print(f"generator hf:{model} on the GPU: {len(questions)} prompts, batch {getattr(gen, 'batch_size', 1)}")
    print(f"  {len(questions) / t_batch:8.2f} answers/s, {tokens / t_batch:8.0f} generated tokens/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="generated vectors")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--texts", type=int, default=1024, help="texts to embed (0: skip)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedder", default="all-MiniLM-L6-v2", help="embedder name or folder")
    parser.add_argument(
        "--generated-embedder",
        metavar="CONFIG_DIR",
        help="a sentence-transformers folder without weights: use its architecture with random weights",
    )
    parser.add_argument("--corpus", help="a JSONL corpus (id, title, text) to embed and search on both devices")
    parser.add_argument("--corpus-cpu", type=int, default=2000, help="corpus passages embedded on the CPU too")
    parser.add_argument(
        "--transformers", action="store_true", help="also check the transformers backend (judge, generation)"
    )
    parser.add_argument("--model", default="qwen2.5-0.5b", help="generator for --transformers")
    parser.add_argument("--judge-model", default="qwen2.5-1.5b", help="judge model for --transformers")
    parser.add_argument("--pairs", default="tests/data/judge_pairs.jsonl", help="labelled judge pairs")
    parser.add_argument("--n-pairs", type=int, default=149)
    args = parser.parse_args(argv)
    from rag.device import gpu_backend, resolve_device

    try:
        resolve_device("cuda")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import torch

    print(f"GPU: {torch.cuda.get_device_name(0)}; search backend available: {gpu_backend()}")
    embedder = generated_embedder(args.generated_embedder, args.seed) if args.generated_embedder else args.embedder
    check_search(args.n, args.dim, args.queries, args.k, args.seed)
    if args.texts:
        check_embedding(args.texts, args.seed, embedder)
    if args.corpus:
        check_corpus(args.corpus, embedder, args.corpus_cpu, args.queries, args.k, args.seed)
    if args.transformers:
        check_transformers(args.model, args.judge_model, args.pairs, args.n_pairs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
