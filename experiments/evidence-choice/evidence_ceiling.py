"""How much of ASQA's short answers the retrieved text holds, before any generator: str_em of
(a) all k retrieved passages and (b) the first m evidence sentences chosen from them.

    python experiments/evidence-choice/evidence_ceiling.py --index asqa --n 200

No language model runs: this is retrieval plus ``rag.evidence.select_evidence``, so it
takes about a second a question. (a) is the ceiling for any answer written from k passages; (b)
is what an answer that quotes m evidence sentences would score, and the ceiling of an answer
composed from them. Words are counted as ALCE counts answer length. Tuning questions only (the
dev questions outside pooled-300, ``--subset tune``): pooled-300 is never read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from rag.evaluation.data import load_asqa, qa_pair_dict
from rag.evaluation.metrics import str_em
from rag.evidence import select_evidence
from rag.indexing.store import load_index, resolve_index_path
from rag.pipeline import PipelineConfig
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[2]


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--n", type=int, default=200, help="tuning questions (first n of --subset tune)")
    ap.add_argument("--ks", default="5,10,20")
    ap.add_argument("--ms", default="2,3,4,6,8")
    ap.add_argument("--per-passage", default="1,2", help="evidence sentences allowed from one passage")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    data_dir = use_data_dir(args.data_dir)
    ks = [int(x) for x in args.ks.split(",")]
    ms = [int(x) for x in args.ms.split(",")]
    per = [int(x) for x in args.per_passage.split(",")]
    config = PipelineConfig()
    index = load_index(resolve_index_path(args.index))
    retriever = Retriever(index, config.retrieval)
    embed = index.embedder.encode
    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune", limit=args.n)
    rows: dict[str, list[tuple[float, int]]] = {}

    def add(name: str, text: str, qa: list[dict]) -> None:
        rows.setdefault(name, []).append((100 * str_em(text, qa), len(text.split())))

    for item in items:
        qa = [qa_pair_dict(p) for p in item.qa_pairs]
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
