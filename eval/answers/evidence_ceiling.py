"""How much of ASQA's short answers the retrieved text holds, before any generator: str_em of
(a) all k retrieved passages and (b) the first m evidence sentences chosen from them.

    python eval/answers/evidence_ceiling.py --index asqa --n 200

No language model runs: this is retrieval plus ``rag.citing.evidence.select_evidence``, so it
takes about a second a question. (a) is the ceiling for any answer written from k passages; (b)
is what an answer that quotes m evidence sentences would score, and the ceiling of an answer
composed from them. Words are counted as ALCE counts answer length. Tuning questions only (the
dev questions outside pooled-300, ``--subset tune``): pooled-300 is never read.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace

from rag.citing.evidence import select_evidence
from rag.evaluation.data import _qa_pair_dict, load_asqa
from rag.evaluation.metrics import str_em
from rag.indexing.store import load_index, resolve_index_path
from rag.pipeline import PipelineConfig
from rag.retrieval import Retriever


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--n", type=int, default=200, help="tuning questions (first n of --subset tune)")
    ap.add_argument("--ks", default="5,10,20")
    ap.add_argument("--ms", default="2,3,4,6,8")
    ap.add_argument("--per-passage", default="1,2", help="evidence sentences allowed from one passage")
    args = ap.parse_args()
    ks = [int(x) for x in args.ks.split(",")]
    ms = [int(x) for x in args.ms.split(",")]
    per = [int(x) for x in args.per_passage.split(",")]
    config = PipelineConfig()
    index = load_index(resolve_index_path(args.index))
    retriever = Retriever(index, config.retrieval)
    embed = index.embedder.encode
    items = load_asqa(subset="tune", limit=args.n)
    rows: dict[str, list[tuple[float, int]]] = {}

    def add(name: str, text: str, qa: list[dict]) -> None:
        rows.setdefault(name, []).append((100 * str_em(text, qa), len(text.split())))

    for item in items:
        qa = [_qa_pair_dict(p) for p in item.qa_pairs]
        hits = retriever.retrieve(item.question, max(ks))
        for k in ks:
            passages = [sp.passage for sp in hits[:k]]
            add(f"k={k:<2} all passages", " ".join(p.text for p in passages), qa)
            for pp in per:
                cfg = replace(config.evidence, max_sentences=max(ms), per_passage=pp, keep_ratio=0.0)
                ev = select_evidence(item.question, passages, embed=embed, config=cfg).evidence
                for m in ms:
                    add(f"k={k:<2} evidence m={m} per_passage={pp}", " ".join(e.text for e in ev[:m]), qa)
    print(f"{len(items)} tuning questions, index {args.index}, retrieval defaults, evidence scoring defaults")
    print(f"{'text':42} {'str_em':>7} {'mean words':>11} {'median words':>13}")
    for name, vals in rows.items():
        em = statistics.fmean(v[0] for v in vals)
        words = [v[1] for v in vals]
        print(f"{name:42} {em:7.1f} {statistics.fmean(words):11.1f} {statistics.median(words):13.0f}")


if __name__ == "__main__":
    main()
