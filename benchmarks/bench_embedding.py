"""Benchmark: embedding speed on this CPU, the physical floor, and what int8 costs in recall.

Passages are the ``asqa`` index's own (what its embedder saw: ``title + "\\n" + text``, at most
256 embedder tokens). Measured on the first ``--sample`` of them, one after another, alone:

* ``baseline``: sentence-transformers ``encode`` in fp32, batch 64, in corpus order.
* ``rag``: ``rag.indexing.dense.Embedder.encode`` (length-sorted batches; bf16 autocast only
  where the CPU has bf16 support: not on an AVX2-only CPU).
* ``onnx-fp32`` / ``onnx-int8``: the same model exported to ONNX (mean pooling inside the graph)
  and run by ONNX Runtime on length-sorted batches; int8 is ONNX Runtime's dynamic quantisation
  with per-channel weights. Needs ``pip install onnxruntime onnx`` (not a dependency of rag).

Each row prints passages/s, the ratio to ``baseline`` measured in this run, and the cosine of
its vectors to ``rag``'s (min and mean). The floor: the tokens the sample really holds (no
padding) times MiniLM-L6's FLOPs a token (2 x 22.7M weights, plus attention at that length),
divided by the fp32 matmul rate torch reaches here on one large GEMM: no fp32 encoder can beat it.

``--recall`` embeds the whole index with ``onnx-int8`` (passages and queries) and reports the
default hybrid retrieval's recall@k on all 948 ASQA dev questions and on pooled-300 beside the
index's own fp32 vectors: the issue allows int8 only if recall@5 stays within 0.1.

    python benchmarks/bench_embedding.py [--sample 1000] [--recall]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAX_TOKENS = 256
HIDDEN, LAYERS, FFN = 384, 6, 1536


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


def flops_per_token(seq_len: float) -> float:
    """MiniLM-L6's multiply-adds x 2 for one token in a sequence of ``seq_len`` tokens."""
    projections = 4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN  # Q, K, V, O and the two FFN matrices
    attention = 2 * seq_len * HIDDEN  # QK^T and attention x V
    return 2.0 * LAYERS * (projections + attention)


def gemm_gflops(n: int = 2048, seconds: float = 3.0) -> float:
    """fp32 GFLOP/s of torch's matmul on n x n matrices (the best of repeated runs)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2.0 * n**3 / (time.perf_counter() - t0) / 1e9)
    return best


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through ONNX Runtime: length-sorted batches, unit rows (float32)."""

    def __init__(self, model_dir: str, onnx_path: Path, threads: int) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.dimension = HIDDEN
        self.name = "all-MiniLM-L6-v2"

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), HIDDEN), dtype=np.float32)
        for s in range(0, len(texts), batch_size):
            idx = order[s : s + batch_size]
            enc = self.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np"
            )
            feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
            out[idx] = self.session.run(None, feed)[0]
        return _normalise(out)

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.encode(queries)

    def encode_all(self, texts: Sequence[str]) -> Callable[[], np.ndarray]:
        """``encode(texts)`` as a call to time."""
        return lambda: self.encode(texts)


def export_onnx(model_dir: str, out_dir: Path) -> tuple[Path, Path]:
    """The model with mean pooling as ONNX (fp32), and its dynamic int8 quantisation."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            h = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)

    enc = tok(["a b c", "a longer second text"], padding=True, return_tensors="pt")
    fp32, int8 = out_dir / "minilm.onnx", out_dir / "minilm-int8.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(
        Pooled().eval(),
        tuple(enc[k] for k in names),
        str(fp32),
        input_names=names,
        output_names=["embedding"],
        dynamic_axes={**{k: {0: "batch", 1: "seq"} for k in names}, "embedding": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    return fp32, int8


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    v = fn()
    return v, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--sample", type=int, default=1000, help="passages timed (the index's first N)")
    ap.add_argument("--recall", action="store_true", help="also: recall@k with int8 vectors")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/, read with --recall "
        "(default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args(argv)
    asqa = use_data_dir(args.data_dir) / "asqa" if args.recall else None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from rag.device import cpu_threads
    from rag.indexing.dense import Embedder
    from rag.indexing.store import load_index
    from rag.models import resolve_embedder

    hf_logging.disable_progress_bar()
    threads = cpu_threads()
    torch.set_num_threads(threads)
    index = load_index(args.index, device="cpu")
    texts = index.texts()[: args.sample]
    model_dir = str(resolve_embedder("all-MiniLM-L6-v2"))
    tok = SentenceTransformer(model_dir, device="cpu").tokenizer
    lengths = [min(len(ids), MAX_TOKENS) for ids in tok(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]]
    tokens = float(sum(lengths))
    cpu = platform.processor() or platform.machine()
    print(f"# {cpu}, {os.cpu_count()} CPUs, {threads} threads, torch {torch.__version__}")
    print(f"# {len(texts)} passages of index {args.index!r}, {tokens / len(texts):.0f} tokens each on average\n")

    baseline_model = SentenceTransformer(model_dir, device="cpu")

    def baseline() -> np.ndarray:
        with torch.inference_mode():
            parts = [baseline_model.encode(texts[s : s + 64], batch_size=64) for s in range(0, len(texts), 64)]
        return _normalise(np.concatenate(parts))

    emb = Embedder("all-MiniLM-L6-v2", device="cpu")
    rows: list[tuple[str, np.ndarray, float]] = []
    timed_rows: tuple[tuple[str, Callable[[], np.ndarray]], ...] = (
        ("baseline (fp32, corpus order)", baseline),
        (f"rag ({emb.precision}, sorted)", lambda: emb.encode(texts)),
    )
    for name, fn in timed_rows:
        v, s = timed(fn)
        rows.append((name, v, s))
    int8_path: Path | None = None
    tmp = tempfile.TemporaryDirectory()
    try:
        import onnxruntime  # noqa: F401

        fp32_path, int8_path = export_onnx(model_dir, Path(tmp.name))
        for name, path in (("onnx-fp32 (sorted)", fp32_path), ("onnx-int8 (sorted)", int8_path)):
            v, s = timed(OnnxEmbedder(model_dir, path, threads).encode_all(texts))
            rows.append((name, v, s))
    except ImportError:
        print("(onnxruntime / onnx not installed: no ONNX rows)\n")

    base_rate = len(texts) / rows[0][2]
    ref = rows[1][1]
    print("| encoder | passages/s | tokens/s | ratio to baseline | cosine to rag: min | mean |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, v, s in rows:
        rate = len(texts) / s
        cos = (ref * v).sum(1)
        ratio = rate / base_rate
        print(f"| {name} | {rate:.1f} | {tokens / s:,.0f} | {ratio:.2f}x | {cos.min():.4f} | {cos.mean():.4f} |")

    gflops = gemm_gflops()
    per_passage = float(sum(n * flops_per_token(n) for n in lengths)) / len(lengths)
    print(
        f"\nfp32 GEMM here: {gflops:.0f} GFLOP/s; MiniLM-L6 on these passages: {per_passage / 1e9:.2f} GFLOP a passage "
        f"({per_passage / (tokens / len(texts)) / 1e6:.1f} MFLOP a token)"
    )
    print(
        f"floor for fp32 at that GEMM rate: {gflops * 1e9 / per_passage:.0f} passages/s "
        f"({gflops * 1e9 / (per_passage / (tokens / len(texts))):,.0f} tokens/s)"
    )

    if args.recall and int8_path is not None:
        from rag.evaluation.retrieval import DEFAULT_KS, evaluate_retrieval, load_ids, load_questions
        from rag.indexing.dense import DenseIndex
        from rag.indexing.store import Index
        from rag.retrieval.retriever import RetrievalConfig

        onnx8 = OnnxEmbedder(model_dir, int8_path, threads)
        t0 = time.perf_counter()
        vectors = onnx8.encode(index.texts())
        print(f"\nint8: all {len(vectors)} passages embedded in {time.perf_counter() - t0:.0f} s")
        dense8 = DenseIndex.build(vectors, index.dense.config)
        embedder8: Any = onnx8  # duck-typed: encode, encode_queries, dimension
        index8 = Index(
            index.path, index.config, index.manifest, index.passages, index.bm25, dense8, "cpu", embedder=embedder8
        )
        assert asqa is not None
        questions = load_questions(asqa / "asqa_dev.json")
        ids = load_ids(asqa / "pooled300_ids.txt")
        cfg = {"hybrid": RetrievalConfig()}
        print("\n| vectors | questions | " + " | ".join(f"R@{k}" for k in DEFAULT_KS) + " |")
        print("|---|---|" + "---:|" * len(DEFAULT_KS))
        for name, idx in (("fp32 (index)", index), ("onnx-int8", index8)):
            report = evaluate_retrieval(idx, questions, cfg, DEFAULT_KS)
            for label, rep in ((f"all {len(questions)}", report), ("pooled-300", report.subset(ids))):
                r = rep.results[0].recall
                print(f"| {name} | {label} | " + " | ".join(f"{r[k]:.1f}" for k in DEFAULT_KS) + " |")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
