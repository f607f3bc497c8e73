"""Benchmark and check: the question-side embedder in numpy (new) against sentence-transformers on
torch (old), in one run.

    python benchmarks/bench_query_encoder.py [--indexes asqa,poolonly] [--check-n 300] [--time-n 20] [--repeats 3]

1. **Cold**: a new process that imports rag, loads the index, loads the embedder and embeds one
   question, ``--repeats`` times per backend (alternating); the median seconds of each and the
   ratio old / new. This is the part of a cold ``rag ask`` that the backend changes.
2. **Warm**: per question, what ``rag ask`` embeds with the index's embedder: the question with
   its evidence candidates (``select_evidence``), and the answer's statements with the 5 passages
   (attribution's pre-selection); the median milliseconds per question over ``--time-n``
   questions, each backend timed on the same texts, and the ratio.
3. **Same results**: for ``--check-n`` pooled-300 questions on each index, with the default
   settings: the fused top-k passages, the evidence chosen (passage and character offsets) and
   attribution's candidate order for the statements of the committed final run
   (``results/answers-<index>``), each compared between the backends; plus the
   largest difference between any two embeddings' cosine similarities.

No language model runs. Pooled-300 is read for timing and equality only: nothing is tuned here.
Run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

COLD = """
import sys, time
t = time.perf_counter()
from rag.indexing.dense import Embedder
from rag.indexing.store import load_index, resolve_index_path
index = load_index(resolve_index_path({index!r}))
emb = Embedder(index.config.embedder, device="cpu", backend={backend!r})
index.dense.search(emb.encode_queries(["Who has the highest goals in world football?"]), 5)
print(time.perf_counter() - t, "torch" in sys.modules)
"""

FINAL_RUN = {"asqa": "answers-asqa", "poolonly": "answers-poolonly"}


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


def cold(index: str, backend: str) -> tuple[float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", COLD.format(index=index, backend=backend)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    seconds, torch_loaded = out.stdout.split()[-2:]
    return float(seconds), torch_loaded == "True"


def final_statements(index: str) -> dict[str, list[str]]:
    """The statements of the committed final run's answers, by question id (empty if absent)."""
    from rag.citing.citations import parse_answer

    path = ROOT / "results" / FINAL_RUN.get(index, "-") / "outputs.jsonl"
    if not path.is_file():
        return {}
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out[row["id"]] = [s.text for s in parse_answer(row["output"], len(row["passages"]))]
    return out


def check_index(name: str, args: argparse.Namespace, torch_emb: Any, numpy_emb: Any) -> dict[str, Any]:
    from rag.citing.attribution import rank_candidates
    from rag.evaluation.data import load_asqa
    from rag.evidence import candidate_evidence, select_evidence
    from rag.indexing.store import load_index, resolve_index_path
    from rag.pipeline import PipelineConfig
    from rag.retrieval import Retriever
    from rag.types import Statement

    config = PipelineConfig()
    index = load_index(resolve_index_path(name), device="cpu")
    items = load_asqa(args.data_dir / "asqa" / "asqa_dev.json", subset="pooled300", limit=args.check_n)
    statements = final_statements(name)
    same = {"retrieval": 0, "evidence": 0, "attribution order": 0}
    counted_attr = 0
    max_cos_diff = 0.0
    times: dict[str, list[float]] = {"torch": [], "numpy": []}
    for n, item in enumerate(items):
        result: dict[str, Any] = {}
        for label, emb in (("torch", torch_emb), ("numpy", numpy_emb)):
            index._embedder = emb
            hits = Retriever(index, config.retrieval).retrieve(item.question, config.k)
            passages = [sp.passage for sp in hits]
            ev = select_evidence(item.question, passages, embed=emb.encode, config=config.evidence)
            texts = [item.question, *[c.text for c in candidate_evidence(passages, config.evidence.min_words)]]
            sts = statements.get(item.id, [])
            attr_texts = sts + [f"{p.title}\n{p.text}" for p in passages]
            t = time.perf_counter()
            vecs = emb.encode(texts)
            avec = emb.encode(attr_texts) if sts else None
            if n < args.time_n:
                times[label].append(time.perf_counter() - t)
            order: list[list[int]] = []
            if avec is not None:
                sims = avec[: len(sts)] @ avec[len(sts) :].T
                order = [rank_candidates(Statement(s, s), passages, sims[i]) for i, s in enumerate(sts)]
            result[label] = (
                [sp.passage.id for sp in hits],
                [(e.passage, e.start, e.end) for e in ev.evidence],
                order,
                vecs[1:] @ vecs[0],
            )
        a, b = result["torch"], result["numpy"]
        same["retrieval"] += a[0] == b[0]
        same["evidence"] += a[1] == b[1]
        if a[2]:
            counted_attr += 1
            same["attribution order"] += a[2] == b[2]
        if len(a[3]):
            max_cos_diff = max(max_cos_diff, float(np.abs(a[3] - b[3]).max()))
    return {
        "n": len(items),
        "same": same,
        "attr_n": counted_attr,
        "max_cos_diff": max_cos_diff,
        "warm_ms": {k: 1000 * statistics.median(v) for k, v in times.items() if v},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--indexes", default="asqa,poolonly")
    ap.add_argument("--check-n", type=int, default=300, help="pooled-300 questions compared per index")
    ap.add_argument("--time-n", type=int, default=20, help="of those, the first n are timed")
    ap.add_argument("--repeats", type=int, default=3, help="cold processes per backend")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    use_data_dir(args.data_dir)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    indexes = [x for x in args.indexes.split(",") if x]
    print(f"# bench_query_encoder: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    colds: dict[str, list[float]] = {"torch": [], "numpy": []}
    loaded: dict[str, bool] = {}
    for _ in range(args.repeats):
        for backend in ("torch", "numpy"):
            s, torch_loaded = cold(indexes[0], backend)
            colds[backend].append(s)
            loaded[backend] = torch_loaded
    old, new = statistics.median(colds["torch"]), statistics.median(colds["numpy"])
    print(f"\n## Cold: import + load index {indexes[0]!r} + load embedder + embed and search one question")
    print("| backend | median s | runs | torch imported |")
    print("|---|---|---|---|")
    for b in ("torch", "numpy"):
        runs = ", ".join(f"{x:.2f}" for x in colds[b])
        print(f"| {b} | {statistics.median(colds[b]):.2f} | {runs} | {loaded[b]} |")
    print(f"ratio old / new: {old / new:.2f}x")

    from rag.indexing.dense import Embedder

    torch_emb = Embedder(device="cpu", backend="torch")
    numpy_emb = Embedder(device="cpu", backend="numpy")
    print(f"\n(torch backend precision here: {torch_emb.precision})")
    for name in indexes:
        r = check_index(name, args, torch_emb, numpy_emb)
        w = r["warm_ms"]
        print(f"\n## Index {name!r}: {r['n']} pooled-300 questions, default settings")
        print(
            f"warm, embedding per question (question + evidence candidates, statements + passages), "
            f"median of {args.time_n}: torch {w['torch']:.0f} ms, numpy {w['numpy']:.0f} ms, "
            f"ratio old / new {w['torch'] / w['numpy']:.2f}x"
        )
        s = r["same"]
        print(f"same fused top-k passages: {s['retrieval']} / {r['n']}")
        print(f"same evidence chosen (passage, offsets): {s['evidence']} / {r['n']}")
        print(f"same attribution candidate order (final run's statements): {s['attribution order']} / {r['attr_n']}")
        print(f"largest |cosine(question, candidate)| difference: {r['max_cos_diff']:.2e}")


if __name__ == "__main__":
    main()
