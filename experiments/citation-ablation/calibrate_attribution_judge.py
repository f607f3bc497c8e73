"""P(yes) of an LLM judge on the labelled pairs, and the threshold sweep for attribution.

Writes every pair's probability (so thresholds are re-chosen without re-running the model) and
prints accuracy / precision / recall per threshold on the dev split and the held-out test split.

    python experiments/citation-ablation/calibrate_attribution_judge.py --model qwen2.5-0.5b \\
        --out experiments/citation-ablation/judge_0.5b_probs.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rag.evaluation.judge_check import load_pairs, split_of
from rag.judges.llm import LLMJudge


def scores(rows: list[dict], threshold: float) -> tuple[float, float, float, int]:
    tp = sum(r["p"] >= threshold and r["label"] for r in rows)
    fp = sum(r["p"] >= threshold and not r["label"] for r in rows)
    fn = sum(r["p"] < threshold and r["label"] for r in rows)
    acc = sum((r["p"] >= threshold) == r["label"] for r in rows) / len(rows)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return acc, prec, rec, len(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--pairs", type=Path, default=Path("tests/data/judge_pairs.jsonl"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows: list[dict] = []
    if args.out.is_file():
        rows = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
    else:
        judge = LLMJudge(args.model)
        t0 = time.perf_counter()
        for pair in load_pairs(args.pairs):
            p = judge.probability(pair.premise, pair.hypothesis)
            rows.append({"p": p, "label": pair.label, "split": split_of(pair), "kind": pair.kind})
        print(f"{len(rows)} pairs in {time.perf_counter() - t0:.0f} s")
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print("| threshold | dev acc | dev P | dev R | test acc | test P | test R |")
    print("|---|---|---|---|---|---|---|")
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7):
        d = scores([r for r in rows if r["split"] == "dev"], t)
        e = scores([r for r in rows if r["split"] == "test"], t)
        print(f"| {t} | {d[0]:.3f} | {d[1]:.3f} | {d[2]:.3f} | {e[0]:.3f} | {e[1]:.3f} | {e[2]:.3f} |")


if __name__ == "__main__":
    main()
