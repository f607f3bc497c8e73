"""The trained verifier against the two LLM judges on held-out labelled pairs, in one run.

Scores each judge on the ``test`` split of ``tests/data/judge_pairs.jsonl`` (pairs whose questions
the verifier never saw in training; its threshold was chosen on ``dev``): accuracy, precision,
recall, and pairs per second on this machine, each judge fresh (no verdict cache). The baseline is
the pipeline's attribution judge today, ``llm:qwen2.5-0.5b``: the last column is each judge's
pairs per second as a ratio to it. Run it alone: it times models on the CPU.

    python benchmarks/bench_verifier.py --out benchmarks/bench_verifier.txt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from runinfo import opening_lines

from rag.evaluation.judge_check import DEFAULT_PAIRS, judge_check, load_pairs, select_split
from rag.judges.load import load_judge

BASELINE = "llm:qwen2.5-0.5b"
JUDGES = ("verifier", BASELINE, "llm:qwen2.5-1.5b")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    ap.add_argument("--split", default="test")
    ap.add_argument("--judges", nargs="+", default=list(JUDGES))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    pairs = select_split(load_pairs(args.pairs), args.split)
    lines = [
        *opening_lines(f"{len(pairs)} pairs ({args.split} split of {args.pairs.name})"),
        f"{'judge':<20} {'accuracy':>9} {'precision':>10} {'recall':>7} {'seconds':>8} {'pairs/s':>8} "
        f"{'ratio to ' + BASELINE:>26}",
    ]
    print("\n".join(lines), flush=True)
    rates: dict[str, float] = {}
    rows = []
    for name in args.judges:
        judge = load_judge(name, cache=False)
        judge.entails_batch([(pairs[0].premise, pairs[0].hypothesis)])  # load and warm up
        start = time.perf_counter()
        result = judge_check(judge, pairs)
        seconds = time.perf_counter() - start
        judge.close()
        rates[name] = len(pairs) / seconds
        rows.append((name, result, seconds))
        print(
            f"{name:<20} {result.accuracy:9.3f} {result.precision:10.3f} {result.recall:7.3f} {seconds:8.1f} "
            f"{rates[name]:8.2f}",
            flush=True,
        )
    base = rates.get(BASELINE)
    lines += [
        f"{name:<20} {r.accuracy:9.3f} {r.precision:10.3f} {r.recall:7.3f} {s:8.1f} {rates[name]:8.2f} "
        f"{(rates[name] / base if base else float('nan')):26.1f}"
        for name, r, s in rows
    ]
    lines.append("(each judge loaded and warmed on one pair before timing; no verdict cache)")
    print("\n".join(lines[-len(rows) - 1 :]))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
