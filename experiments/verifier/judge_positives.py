"""The 0.5B attribution judge's "supported" statements from archived tuning runs, as
``judge_positives.jsonl`` (question id, sentence, the passages it cites as one premise).

The runs are under the git tag ``results-archive`` (``eval/results/<run>/outputs.jsonl``): rag's
answers to tuning questions (none of pooled-300), where every statement shown had passed the 0.5B
attribution judge (hidden statements are listed apart and not used). Quoted fallback sentences are
left out: they were shown without a verdict.

    python experiments/verifier/judge_positives.py --out experiments/verifier/judge_positives.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

from rag.text import split_sentences

HERE = Path(__file__).resolve().parent
RUNS = ("tune100-reader", "tune100-1.5b", "tune100-noreader", "tune60-final", "tune60-learned", "tune60-default")
CITE_RE = re.compile(r"\s*\[(\d+)\]")


def archived(run: str) -> list[dict]:
    text = subprocess.run(
        ["git", "show", f"results-archive:eval/results/{run}/outputs.jsonl"],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
    ).stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "judge_positives.jsonl")
    args = ap.parse_args()
    seen: set[tuple[str, str]] = set()
    rows = []
    for run in RUNS:
        for rec in archived(run):
            if rec.get("quoted_fallback") or rec.get("kind") != "rag":
                continue
            for sentence in split_sentences(rec["output"]):
                cited = [int(n) for n in CITE_RE.findall(sentence)]
                plain = CITE_RE.sub("", sentence).strip()
                if not cited or len(plain.split()) < 4:
                    continue
                shown = [rec["passages"][n - 1] for n in dict.fromkeys(cited) if 0 < n <= len(rec["passages"])]
                premise = "\n".join(f"Title: {p['title']}\n{p['text']}" for p in shown)
                key = (rec["id"], plain)
                if shown and key not in seen:
                    seen.add(key)
                    rows.append({"question_id": rec["id"], "sentence": plain, "premise": premise, "run": run})
    with args.out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} statements from {len(RUNS)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
