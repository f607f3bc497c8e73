"""Choose the evidence scoring weights on tuning questions, without a language model: str_em and
length of the first m evidence sentences for a grid of ``EvidenceConfig`` weights and k.

    python experiments/evidence-choice/evidence_tuning.py --index asqa --n 200 --offset 0

Each question is retrieved once (the largest k; smaller k are its prefixes, as the retriever
guarantees) and every sentence embedded once; each grid point then re-runs
``rag.evidence.select_evidence`` on the cached vectors. Tuning questions only (the dev
questions outside pooled-300, in file order from ``--offset``): pooled-300 is never read. The
table is sorted by str_em at ``--m`` sentences.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.evaluation.data import load_asqa, qa_pair_dict
from rag.evaluation.metrics import str_em
from rag.evidence import EvidenceConfig, select_evidence
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
    ap.add_argument("--n", type=int, default=200, help="tuning questions")
    ap.add_argument("--offset", type=int, default=0, help="skip this many tuning questions first")
    ap.add_argument("--ks", default="5,10")
    ap.add_argument("--m", default="2,3", help="evidence sentences scored (the table sorts by the first)")
    ap.add_argument("--rank-weights", default="0,0.1,0.2,0.4")
    ap.add_argument("--lexical-weights", default="0.25,0.5,1.0")
    ap.add_argument("--type-weights", default="0,0.1,0.2")
    ap.add_argument("--diversities", default="0,0.3,0.6")
    ap.add_argument("--keep-ratios", default="0", help="keep_ratio values (0: m sentences always)")
    ap.add_argument("--top", type=int, default=25, help="rows printed")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    data_dir = use_data_dir(args.data_dir)

    def floats(text: str) -> list[float]:
        return [float(x) for x in text.split(",")]

    ks = [int(x) for x in args.ks.split(",")]
    ms = [int(x) for x in args.m.split(",")]
    base = PipelineConfig()
    index = load_index(resolve_index_path(args.index))
    retriever = Retriever(index, base.retrieval)
    memo: dict[str, np.ndarray] = {}

    def embed(texts: Sequence[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in memo]
        if new:
            for t, v in zip(new, index.embedder.encode(new), strict=True):
                memo[t] = v
        return np.stack([memo[t] for t in texts])

    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune", limit=args.offset + args.n)[args.offset :]
    questions = []
    for item in items:
        hits = retriever.retrieve(item.question, max(ks))
        questions.append((item.question, [sp.passage for sp in hits], [qa_pair_dict(p) for p in item.qa_pairs]))
        select_evidence(item.question, questions[-1][1], embed=embed)  # fills the memo
    grid = list(
        itertools.product(
            ks,
            floats(args.rank_weights),
            floats(args.lexical_weights),
            floats(args.type_weights),
            floats(args.diversities),
            floats(args.keep_ratios),
        )
    )
    rows = []
    for k, rank_w, lex_w, type_w, div, keep in grid:
        cfg = replace(
            EvidenceConfig(),
            max_sentences=max(ms),
            rank_weight=rank_w,
            lexical_weight=lex_w,
            type_weight=type_w,
            diversity=div,
            keep_ratio=keep,
        )
        ems = {m: [] for m in ms}
        words = {m: [] for m in ms}
        for question, passages, qa in questions:
            ev = select_evidence(question, passages[:k], embed=embed, config=cfg).evidence
            for m in ms:
                text = " ".join(e.text for e in ev[:m])
                ems[m].append(100 * str_em(text, qa))
                words[m].append(len(text.split()))
        rows.append(
            (
                (k, rank_w, lex_w, type_w, div, keep),
                {m: (statistics.fmean(ems[m]), statistics.fmean(words[m])) for m in ms},
            )
        )
    rows.sort(key=lambda r: -r[1][ms[0]][0])
    default = EvidenceConfig()
    print(
        f"{len(questions)} tuning questions (offset {args.offset}), index {args.index}; "
        f"defaults: rank {default.rank_weight}, lexical {default.lexical_weight}, type {default.type_weight}, "
        f"diversity {default.diversity}"
    )
    head = "  ".join(f"str_em@{m} words@{m}" for m in ms)
    print(f"{'k':>3} {'rank':>5} {'lex':>5} {'type':>5} {'div':>5} {'keep':>5}  {head}")
    for (k, rank_w, lex_w, type_w, div, keep), by_m in rows[: args.top]:
        cells = "  ".join(f"{by_m[m][0]:8.1f} {by_m[m][1]:7.1f}" for m in ms)
        print(f"{k:>3} {rank_w:5.2f} {lex_w:5.2f} {type_w:5.2f} {div:5.2f} {keep:5.2f}  {cells}")


if __name__ == "__main__":
    main()
