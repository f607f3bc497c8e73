"""Benchmark: the project's BM25Index (bm25s) against rank-bm25, indexing and querying.

Corpora: the ASQA corpus (10,537 passages) and a larger one made from it by repeating it with
perturbed copies (each copy drops ~15% of each passage's words and shuffles a few, seeded), by
default 200,000 passages. Queries: ASQA dev questions. rank-bm25 scores every document in
Python/numpy per query, so on the large corpus it is timed on a fixed sample of queries
(``--rank-queries``); bm25s is timed on the same sample AND on all queries. Both sides use the
same tokenisation (bm25s' regex, English stop words, PyStemmer English stemmer), timed as part of
indexing. Prints a table and the bm25s / rank-bm25 ratios, all measured in this run.

    python benchmarks/bench_bm25.py [--large 200000] [--rank-queries 100] [--k 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r"(?u)\b\w\w+\b")


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


def load_corpus(data_dir: Path) -> list[str]:
    path = data_dir / "asqa" / "corpus.jsonl"
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            texts.append(rec["text"])
    return texts


def perturbed(texts: list[str], n: int, seed: int = 0) -> list[str]:
    """``n`` passages: the originals, then perturbed copies until ``n`` are reached."""
    rng = random.Random(seed)
    out = list(texts[:n])
    while len(out) < n:
        for t in texts:
            if len(out) >= n:
                break
            words = [w for w in t.split() if rng.random() > 0.15]
            for _ in range(3):
                if len(words) > 2:
                    i, j = rng.randrange(len(words)), rng.randrange(len(words))
                    words[i], words[j] = words[j], words[i]
            out.append(" ".join(words))
    return out


def make_tokenizer():
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    stemmer = Stemmer.Stemmer("english")
    stop = set(STOPWORDS_EN)

    def tok(text: str) -> list[str]:
        return stemmer.stemWords([w for w in TOKEN.findall(text.lower()) if w not in stop])

    return tok


def bench_bm25s(texts: list[str], queries: list[str], sample: list[str], k: int) -> dict:
    from rag.indexing.bm25 import BM25Config, BM25Index

    t0 = time.perf_counter()
    index = BM25Index.build(texts, BM25Config())
    build = time.perf_counter() - t0
    index.search_many(queries[:5], k)  # warm-up
    t0 = time.perf_counter()
    index.search_many(sample, k)
    t_sample = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.search_many(queries, k)
    t_all = time.perf_counter() - t0
    # one query at a time, as a user asks
    t0 = time.perf_counter()
    for q in sample:
        index.search(q, k)
    t_single = time.perf_counter() - t0
    return {
        "build_s": build,
        "qps_sample": len(sample) / t_sample,
        "qps_all_batched": len(queries) / t_all,
        "qps_sample_single": len(sample) / t_single,
    }


def bench_rank_bm25(texts: list[str], sample: list[str], k: int) -> dict:
    import numpy as np
    from rank_bm25 import BM25Okapi

    tok = make_tokenizer()
    t0 = time.perf_counter()
    index = BM25Okapi([tok(t) for t in texts], k1=1.5, b=0.75)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for q in sample:
        scores = index.get_scores(tok(q))
        top = np.argpartition(-scores, k)[:k]
        top[np.argsort(-scores[top])]
    t = time.perf_counter() - t0
    return {"build_s": build, "qps_sample": len(sample) / t}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", type=int, default=200_000, help="size of the generated corpus")
    ap.add_argument("--rank-queries", type=int, default=100, help="query sample for rank-bm25")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args(argv)

    data_dir = use_data_dir(args.data_dir)
    base = load_corpus(data_dir)
    qs = json.loads((data_dir / "asqa" / "asqa_dev.json").read_text(encoding="utf-8"))
    queries = [q["question"] for q in qs]
    sample = random.Random(1).sample(queries, min(args.rank_queries, len(queries)))
    print(f"# bench_bm25: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"queries: {len(queries)} ASQA dev questions; rank-bm25 timed on a fixed sample of {len(sample)}")
    print()
    header = (
        f"{'corpus':>10} {'impl':>10} {'build s':>9} {'q/s (sample)':>13} {'q/s (all, batch)':>17} {'q/s (1 by 1)':>13}"
    )
    print(header)
    ratios = []
    for name, texts in (("asqa", base), (f"{args.large // 1000}k", perturbed(base, args.large))):
        a = bench_bm25s(texts, queries, sample, args.k)
        b = bench_rank_bm25(texts, sample, args.k)
        print(
            f"{name:>10} {'bm25s':>10} {a['build_s']:>9.2f} {a['qps_sample']:>13.1f} "
            f"{a['qps_all_batched']:>17.1f} {a['qps_sample_single']:>13.1f}"
        )
        print(f"{name:>10} {'rank-bm25':>10} {b['build_s']:>9.2f} {b['qps_sample']:>13.1f} {'':>17} {'':>13}")
        ratios.append(
            (
                name,
                len(texts),
                b["build_s"] / a["build_s"],
                a["qps_sample"] / b["qps_sample"],
                a["qps_sample_single"] / b["qps_sample"],
            )
        )
        sys.stdout.flush()
    print()
    print(f"{'corpus':>10} {'passages':>9} {'build speed-up':>15} {'query speed-up (batch)':>23} {'(1 by 1)':>9}")
    for name, n, rb, rq, rs in ratios:
        print(f"{name:>10} {n:>9} {rb:>14.1f}x {rq:>22.1f}x {rs:>8.1f}x")
    print("\nspeed-up = bm25s / rank-bm25 (>1: bm25s faster); same query sample for both.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
