"""Benchmark: attribution with the LLM judge asked one set at a time and stopped at the first set
accepted, against the old way (every candidate set of a size asked at once), then with the
premise pieces of every passage kept (``LLMJudge(state_slots=...)``) against not kept, and the
cost of scoring with the evaluation judge with and without kept pieces, on the same recorded
answers, in one run.

Takes the first ``--n`` answers (``--score-n`` for scoring, 0 to skip it) of a recorded run
under ``--results-dir`` (default: ``tune60-default-nopronoun``, 60 tuning questions, ASQA dev
outside pooled-300, kept under the git tag ``results-archive``: results/INDEX.md says how to
restore it) and
times two jobs, each done in the ways below on fresh judges (no disk cache, so every verdict is
computed):

- **attribution** (the pipeline's judge, ``llm:qwen2.5-0.5b``): every statement the generator
  wrote (those shown, and those hidden as unsupported) re-cited against the answer's passages with
  the default ``AttributionConfig``, the index's embedder ranking candidates. Batched: each
  candidate size asked as one batch. One at a time: stopping at the first accepted set. Both
  without kept pieces (``state_slots=0``: only what the context holds is reused); then one at a
  time with kept pieces (the default).
- **scoring** (the evaluation judge, ``llm:qwen2.5-1.5b``): ALCE's citation recall, precision
  and faithfulness of each answer, without and with kept pieces.

Prints seconds, judge pairs and prompt tokens evaluated for each, the ratio of each way to the next, and
whether the results are identical (citations and verdicts; score lines). Run it alone: it times
language models on the CPU.

    python benchmarks/bench_judging.py [--run tune60-default-nopronoun] [--n 20] [--score-n 8]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

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


def _records(run_dir: Path, n: int) -> list[dict[str, Any]]:
    path = run_dir / "outputs.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("kind") != "closed-book" and r["passages"]][:n]


def _attribution_job(records: list[dict[str, Any]], mode: str) -> tuple[float, int, int, list[Any]]:
    from rag.citing.attribution import attribute
    from rag.citing.citations import parse_answer
    from rag.indexing.dense import Embedder
    from rag.judges.llm import DEFAULT_STATE_SLOTS, LLMJudge
    from rag.types import Passage, Statement

    judge = LLMJudge("qwen2.5-0.5b", state_slots=0 if mode != "kept" else DEFAULT_STATE_SLOTS)
    if mode == "batched":
        judge.batched = True  # the old minimal_support asked every size as one batch
    judge._load()
    embedder = Embedder()
    embedder.encode(["warm-up"])
    results: list[Any] = []
    pairs = 0
    t0 = time.perf_counter()
    for r in records:
        passages = [Passage(p["id"], p["text"], p.get("title", "")) for p in r["passages"]]
        shown = [st for st in parse_answer(r["output"], len(passages))]
        hidden = [Statement(text=h, raw=h) for h in r.get("hidden", [])]
        att = attribute(shown + hidden, passages, judge, embed=embedder.encode)
        pairs += att.judge_pairs
        results.append([(st.text, st.citations, st.verdict) for st in att.statements])
    return time.perf_counter() - t0, pairs, judge.evaluated_tokens, results


def _scoring_job(records: list[dict[str, Any]], mode: str, data: Path) -> tuple[float, int, int, list[Any]]:
    from rag.evaluation.data import read_asqa_file
    from rag.evaluation.scoring import score_record
    from rag.judges.llm import DEFAULT_STATE_SLOTS, LLMJudge

    items = {it.id: it for it in read_asqa_file(data)}
    judge = LLMJudge("qwen2.5-1.5b", state_slots=0 if mode != "kept" else DEFAULT_STATE_SLOTS)
    judge._load()
    pairs = 0

    class Counting:
        name, official, batched = judge.name, False, False

        def entails_batch(self, batch: list[tuple[str, str]]) -> list[bool]:
            nonlocal pairs
            pairs += len(batch)
            return judge.entails_batch(batch)

    counting = Counting()
    lines = []
    t0 = time.perf_counter()
    for r in records:
        lines.append(score_record(items[r["id"]], r, counting, alce_exact=True))  # type: ignore[arg-type]
    return time.perf_counter() - t0, pairs, judge.evaluated_tokens, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="tune60-default-nopronoun")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--score-n", type=int, default=8)
    ap.add_argument("--results-dir", type=Path, default=ROOT / "results", help="where the run's directory is")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/, read to score "
        "(default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    run_dir = args.results_dir / args.run
    if not (run_dir / "outputs.jsonl").is_file():
        sys.exit(
            f"no recorded run at {run_dir}: restore an archived one with "
            f"`git checkout results-archive -- eval/results/{args.run} && mv eval/results/{args.run} results/`"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"# bench_judging: {platform.machine()}, {os.cpu_count()} CPUs; answers of {args.run}")
    jobs: list[tuple[str, Any, int, tuple[str, ...]]] = [
        ("attribution (llm:qwen2.5-0.5b)", _attribution_job, args.n, ("batched", "one at a time", "kept"))
    ]
    if args.score_n > 0:
        data = use_data_dir(args.data_dir) / "asqa" / "asqa_dev.json"
        scoring = functools.partial(_scoring_job, data=data)
        jobs.append(("scoring (llm:qwen2.5-1.5b)", scoring, args.score_n, ("not kept", "kept")))
    for label, job, n, modes in jobs:
        records = _records(run_dir, n)
        results = [(mode, job(records, mode)) for mode in modes]
        print(f"{label}, {len(records)} answers:")
        for name, (secs, pairs, tokens, _) in results:
            per = secs / len(records)
            print(f"  {name:>13}: {secs:7.1f} s  {per:5.2f} s/answer  {pairs:5d} pairs  {tokens:7d} tokens")
        for (a, old), (b, new) in zip(results, results[1:], strict=False):
            print(f"  {a} / {b}: {old[0] / new[0]:.2f}x time, {old[2] / max(new[2], 1):.2f}x tokens")
            print(f"  identical results, {a} and {b}: {old[3] == new[3]}")


if __name__ == "__main__":
    main()
