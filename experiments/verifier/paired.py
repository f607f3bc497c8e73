"""Two scored runs on the same questions, paired: B − A per metric with a 95% bootstrap interval,
plus what the user would see differently (answered, empty answers, statements shown and hidden).

    python experiments/verifier/paired.py results/verifier-valid-llm05 results/verifier-valid-verifier
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.evaluation.paired import compare, diff_markdown, read_scores


def shown(run: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in (run / "outputs.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows = [r for r in rows if r.get("kind") == "rag"]
    n = len(rows)
    return {
        "answers": n,
        "answered %": 100 * sum(bool(r.get("answered")) for r in rows) / n,
        "empty answered": sum(bool(r.get("answered")) and not r["output"].strip() for r in rows),
        "quoted fallback %": 100 * sum(bool(r.get("quoted_fallback")) for r in rows) / n,
        "hidden statements / answer": sum(len(r.get("hidden") or []) for r in rows) / n,
        "words / answer": sum(len(r["output"].split()) for r in rows) / n,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--scores", default="scores-none.jsonl", help="the scores file in each run")
    args = ap.parse_args()
    a, b = read_scores(args.a / args.scores, None), read_scores(args.b / args.scores, None)
    print(diff_markdown(compare(a, b), args.a.name, args.b.name))
    sa, sb = shown(args.a), shown(args.b)
    print(f"| shown | {args.a.name} | {args.b.name} |\n|---|---:|---:|")
    for key in sa:
        print(f"| {key} | {sa[key]:.1f} | {sb[key]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
