"""Benchmark: `rag eval --engine ray` against one process, on the same questions, in one run.

Answers the first ``--n`` tuning questions (ASQA dev outside pooled-300) with the default
pipeline and generator on the ``asqa`` index, once in this process and once on a local Ray
cluster of ``--workers`` actors (each loads index, generator and attribution judge once; the
cluster is started, and timed, before the run), and scores each run's answers with the judge
``--judge`` (default: the default judge) the same way. Each engine gets a fresh verdict cache
(``$RAG_CACHE``, the assembled models shared), so neither reads verdicts the other computed.

Prints seconds per question for each stage and engine, the ratios ray / local, whether the
answers and the score lines are identical, and the per-worker throughput the sizing plan in
docs/scale.md uses.

    python benchmarks/bench_ray_eval.py [--n 8] [--workers 2] [--judge llm]
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


def _by_key(path: Path) -> dict[tuple[str, str], dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["system"], r["id"]): r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--judge", default="llm")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    data = use_data_dir(args.data_dir) / "asqa" / "asqa_dev.json"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from rag.cluster import RayEngine, connect, shutdown
    from rag.evaluation.data import TUNING_SUBSET
    from rag.evaluation.rundir import RunConfig
    from rag.evaluation.runner import run_benchmark
    from rag.evaluation.scoring import score_run
    from rag.generation import clear_generator_cache
    from rag.paths import cache_dir

    config = RunConfig(
        data=str(data), limit=args.n, subset=TUNING_SUBSET, index="asqa", baseline=None, judge=args.judge
    )
    engine = RayEngine(workers=args.workers)
    print(f"# bench_ray_eval: {platform.machine()}, {os.cpu_count()} CPUs; {args.n} tuning questions, index asqa")
    print(f"# generator {config.generators[0]}, judge {args.judge}, {args.workers} Ray workers x 1 thread")
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        local, dist = Path(tmp) / "local", Path(tmp) / "ray"
        models = cache_dir() / "models"
        for name in ("cache-local", "cache-ray"):  # fresh verdict caches, the same assembled models
            (Path(tmp) / name).mkdir()
            if models.is_dir():
                (Path(tmp) / name / "models").symlink_to(models)

        os.environ["RAG_CACHE"] = str(Path(tmp) / "cache-local")
        t0 = time.perf_counter()
        run_benchmark(config, local, progress=False, device="cpu")
        times["answer local"] = time.perf_counter() - t0
        clear_generator_cache()
        t0 = time.perf_counter()
        score_run(local, args.judge, progress=False)
        times["score local"] = time.perf_counter() - t0

        os.environ["RAG_CACHE"] = str(Path(tmp) / "cache-ray")  # forwarded to the workers
        t0 = time.perf_counter()
        connect(engine)
        times["ray start"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_benchmark(config, dist, progress=False, device="cpu", engine=engine)
        times["answer ray"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        score_run(dist, args.judge, progress=False, engine=engine)
        times["score ray"] = time.perf_counter() - t0
        shutdown()

        a, b = _by_key(local / "outputs.jsonl"), _by_key(dist / "outputs.jsonl")
        same_answers = a.keys() == b.keys() and all(a[k]["output"] == b[k]["output"] for k in a)
        sa = _by_key(next(local.glob("scores-*.jsonl")))
        sb = _by_key(next(dist.glob("scores-*.jsonl")))
        same_scores = sa == sb

    n = args.n
    print()
    print(f"{'stage':<16}{'local s/q':>11}{'ray s/q':>10}{'ray/local speed':>17}")
    for stage in ("answer", "score"):
        lo, ra = times[f"{stage} local"], times[f"{stage} ray"]
        print(f"{stage:<16}{lo / n:>11.1f}{ra / n:>10.1f}{lo / ra:>16.2f}x")
    print(f"ray cluster start (not in the stages): {times['ray start']:.1f} s")
    print(f"answers identical: {same_answers}; score lines identical: {same_scores}")
    per_answer, per_score = times["answer ray"] / n * args.workers, times["score ray"] / n * args.workers
    print(f"per-worker throughput (1 core each, ray rows): answer {per_answer:.1f} s/q, score {per_score:.1f} s/q")
    print(json.dumps({"n": n, "workers": args.workers, **{k.replace(" ", "_"): v for k, v in times.items()}}))


if __name__ == "__main__":
    main()
