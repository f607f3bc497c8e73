"""Benchmark: ``rag ask`` cold (a new process per question) against warm (one loaded
``Pipeline``, the Python API and ``rag serve`` keep one), on the same pooled-300 questions, in
one run, with the time of each stage.

    python benchmarks/bench_ask.py [--index asqa] [--n 20]

1. Cold: ``rag ask QUESTION --index INDEX --json`` as a new process for each of the first ``n``
   pooled-300 questions. Loading is the wall time less the answer's own total (process start,
   imports, index, embedder, generator); the other stages are the answer's own timings.
2. Warm: one ``Pipeline`` with the default generator and settings on the same index, one
   warm-up question (not counted, a tuning question), then the same ``n`` questions.

Each of the two gets a fresh verdict cache (``$RAG_CACHE`` in a temporary folder, the assembled
models shared), so attribution is measured as a new question costs, not read from the verdicts
of earlier runs on these questions. Cold, one process answers the warm-up question first (not
counted): it saves the models' prompt-prefix states (``rag.kvcache``), which every later process
restores, as it would on a user's machine after the first question; ``benchmarks/bench_prefix.py``
times a load with and without a saved state.

Stages: load, retrieval (query embedding and search), evidence (sentence selection), first token
(from the question to the first generated token, loading included when cold), generation (the
whole generation), attribution (post-hoc citing: the attribution judge), total (the question to
the cited answer, wall time of the process when cold). Prints p50 and p90 of each, cold and
warm, and the ratio cold / warm of the p50 totals.

The floor: warm, every call into llama.cpp is timed (the generator's and the attribution judge's
``Llama.eval``), split into prompt batches (more than one token) and one-token generation
steps. It prints the tokens each evaluates per question, the rates measured, and the share of the
mean warm answer spent inside llama.cpp: what no code around the models can take away, short of
evaluating fewer tokens. Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RAG = [sys.executable, "-c", "from rag.cli import main; main()"]  # the CLI, as bench_serve.py runs it
STAGES = ("load", "retrieval", "evidence", "first_token", "generation", "attribution", "total")


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


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation (nan for no values), as bench_serve.py computes it."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _stages(timings: dict[str, float], load: float, total: float) -> dict[str, float]:
    before_generation = timings.get("retrieval", 0.0) + timings.get("evidence", 0.0)
    return {
        "load": load,
        "retrieval": timings.get("retrieval", 0.0),
        "evidence": timings.get("evidence", 0.0),
        "first_token": load + before_generation + timings.get("time_to_first_token", 0.0),
        "generation": timings.get("generation", 0.0),
        "attribution": timings.get("attribution", 0.0),
        "total": total,
    }


class Meter:
    """Tokens llama.cpp evaluates and the seconds it takes: prompt batches (more than one token)
    and one-token generation steps, counted by wrapping a ``Llama``'s ``eval``."""

    def __init__(self) -> None:
        self.batch_tokens = self.step_tokens = 0
        self.batch_s = self.step_s = 0.0

    def wrap(self, llama: Any) -> None:
        inner = llama.eval

        def timed(tokens: Any) -> None:
            t0 = time.perf_counter()
            inner(tokens)
            dt = time.perf_counter() - t0
            if len(tokens) > 1:
                self.batch_tokens += len(tokens)
                self.batch_s += dt
            else:
                self.step_tokens += len(tokens)
                self.step_s += dt

        llama.eval = timed

    def line(self, name: str, n: int) -> str:
        b_rate = self.batch_tokens / self.batch_s if self.batch_s else 0.0
        s_rate = self.step_tokens / self.step_s if self.step_s else 0.0
        return (
            f"| {name} | {self.batch_tokens / n:.0f} | {b_rate:.0f} | {self.step_tokens / n:.0f} | {s_rate:.1f} "
            f"| {(self.batch_s + self.step_s) / n:.2f} |"
        )


def cold(question: str, index: str, cache: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [*RAG, "ask", question, "--index", index, "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "RAG_CACHE": str(cache)},
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"rag ask failed: {done.stderr.strip().splitlines()[-1:]}")
    timings = json.loads(done.stdout)["timings"]
    return _stages(timings, wall - timings["total"], wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    data = use_data_dir(args.data_dir) / "asqa" / "asqa_dev.json"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from rag import Pipeline, PipelineConfig, load_generator, load_index
    from rag.evaluation.data import TUNING_SUBSET, load_asqa
    from rag.generation.load import DEFAULT_GENERATOR
    from rag.paths import CACHE_ENV, cache_dir

    questions = [it.question for it in load_asqa(data, subset="pooled300", limit=args.n)]
    warm_up = load_asqa(data, subset=TUNING_SUBSET, limit=1)[0].question
    where = f"{platform.machine()}, {os.cpu_count()} CPUs; index {args.index}"
    print(f"# bench_ask: {where}; {len(questions)} pooled-300 questions")
    print(f"# generator {DEFAULT_GENERATOR}, default settings")

    models = cache_dir() / "models"
    with tempfile.TemporaryDirectory() as tmp:
        caches = {name: Path(tmp) / name for name in ("cold", "warm")}
        for path in caches.values():  # fresh verdict caches, the same assembled models
            path.mkdir()
            if models.is_dir():
                (path / "models").symlink_to(models)
        cold(warm_up, args.index, caches["cold"])  # not counted: it saves the prompt prefix's state
        cold_rows = [cold(q, args.index, caches["cold"]) for q in questions]

        os.environ[CACHE_ENV] = str(caches["warm"])
        t0 = time.perf_counter()
        pipe = Pipeline(load_generator(DEFAULT_GENERATOR), load_index(args.index), PipelineConfig())
        pipe.ask(warm_up)
        start_up = time.perf_counter() - t0
        meters = {"generator": Meter(), "attribution judge": Meter()}
        meters["generator"].wrap(pipe.generator.llama)
        meters["attribution judge"].wrap(getattr(pipe.attribution_judge, "inner", pipe.attribution_judge)._llama)
        warm_rows = []
        for q in questions:
            t1 = time.perf_counter()
            answer = pipe.ask(q)
            warm_rows.append(_stages(dict(answer.timings), 0.0, time.perf_counter() - t1))

    print(f"# warm start-up (loading and one warm-up question): {start_up:.1f} s")
    print("| stage | cold p50 | cold p90 | warm p50 | warm p90 |")
    print("|---|---|---|---|---|")
    for stage in STAGES:
        c = [r[stage] for r in cold_rows]
        w = [r[stage] for r in warm_rows]
        print(f"| {stage} | {pct(c, 0.5):.2f} | {pct(c, 0.9):.2f} | {pct(w, 0.5):.2f} | {pct(w, 0.9):.2f} |")
    ratio = pct([r["total"] for r in cold_rows], 0.5) / pct([r["total"] for r in warm_rows], 0.5)
    print(f"ratio cold / warm (p50 total): {ratio:.2f}x")
    n = len(warm_rows)
    print("# warm, inside llama.cpp, per question (means):")
    print("| model | prompt tokens | prompt tokens/s | generated tokens | generated tokens/s | s in llama.cpp |")
    print("|---|---|---|---|---|---|")
    for name, meter in meters.items():
        print(meter.line(name, n))
    inside = sum(m.batch_s + m.step_s for m in meters.values()) / n
    mean_total = sum(r["total"] for r in warm_rows) / n
    print(f"warm mean total {mean_total:.2f} s, of which inside llama.cpp {inside:.2f} s ({inside / mean_total:.0%})")


if __name__ == "__main__":
    main()
