"""The statements the 0.5B attribution judge hid in an archived tuning run, with the passages the
answer was given, for labelling by hand (``hand_labels.jsonl``).

The judge's "supported" is reliable (precision 1.00 on held-out pairs) and is used as training
data by ``judge_positives.py``; its "not supported" is not (recall 0.47-0.81), so the statements it
hid are read by a person against the answer's passages. The run is ``tune100-reader`` under the
git tag ``results-archive`` (the 0.5B generator on tuning questions). Left out: pooled-300, the
questions of the labelled judge pairs (both splits) and the 60 validation questions of the paired
runs (``valid_ids.txt``). Needs the benchmark data (``--shared``) for the pooled-300 ids.

    python experiments/verifier/hidden_statements.py --shared ../shared/data > /tmp/hidden.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from judge_positives import archived

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUN = "tune100-reader"


def excluded(shared: Path) -> set[str]:
    """Pooled-300, the labelled judge pairs' questions and the paired runs' validation questions."""
    out = set((shared / "asqa" / "pooled300_ids.txt").read_text().split())
    with (REPO / "tests" / "data" / "judge_pairs.jsonl").open(encoding="utf-8") as fh:
        out |= {json.loads(line)["source"].split("/", 1)[0] for line in fh}
    return out | set((HERE / "valid_ids.txt").read_text().split())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=os.environ.get("RAG_SHARED_DATA"))
    args = ap.parse_args()
    if args.shared is None or not (args.shared / "asqa" / "pooled300_ids.txt").is_file():
        print("error: needs the benchmark data: --shared DIR or RAG_SHARED_DATA", file=sys.stderr)
        return 2
    skip = excluded(args.shared)
    for rec in archived(RUN):
        if rec["id"] in skip or rec.get("kind") != "rag":
            continue
        for sentence in rec.get("hidden") or []:
            row = {"question_id": rec["id"], "question": rec["question"], "sentence": sentence}
            row["passages"] = [f"Title: {p['title']}\n{p['text']}" for p in rec["passages"]]
            print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
