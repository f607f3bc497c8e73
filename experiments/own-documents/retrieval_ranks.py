"""Where the passage at each question's key page (PDF) or anchor (HTML) ranks in retrieval alone.

Diagnosis only (the keys were found by reading the documents): the default retriever, top 50, and
for the first passage at the key's place its fused, BM25 and dense ranks; one JSON line a question.

    python experiments/own-documents/retrieval_ranks.py --collection pdf > /tmp/ranks_pdf.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag import PipelineConfig, Retriever, load_index

HERE = Path(__file__).resolve().parent


def at_key(question: dict[str, Any], passage: Any) -> bool:
    where, loc = question["where"], passage.location
    if loc is None or not where.get("file"):
        return False
    if question["collection"] == "pdf":
        return bool(loc.pages) and any(loc.pages[0] <= p <= loc.pages[1] for p in where["pages"])
    if not loc.path.replace("\\", "/").endswith("/" + where["file"]):
        return False
    return where["anchor"] is None or loc.anchor == where["anchor"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", default=str(HERE / "questions.jsonl"))
    ap.add_argument("--collection", choices=("pdf", "html"), required=True)
    ap.add_argument("--depth", type=int, default=50)
    args = ap.parse_args(argv)
    questions = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    questions = [q for q in questions if q["collection"] == args.collection]
    retriever = Retriever(load_index(questions[0]["index"]), PipelineConfig().retrieval)
    for q in questions:
        hits = retriever.retrieve(q["question"], args.depth)
        first = next(
            ([i, sp.bm25_rank, sp.dense_rank] for i, sp in enumerate(hits, 1) if at_key(q, sp.passage)),
            None,
        )
        top10 = [sp.passage.location.label() if sp.passage.location else sp.passage.id for sp in hits[:10]]
        print(json.dumps({"id": q["id"], "key_rank_fused_bm25_dense": first, "top10": top10}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
