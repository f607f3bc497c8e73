"""Learn the evidence scorer's weights on tuning questions: a logistic regression that predicts
whether a candidate sentence holds one of the question's short answers, from the cheap features of
``rag.evidence.sentence_features``; then compare, on held-out tuning questions, what the
evidence chosen by the learned score and by the hand-set score holds within a word budget.

    python experiments/evidence-choice/evidence_learn.py --index asqa --cache /tmp/evlearn-asqa.npz

Tuning questions only (the 648 dev questions outside pooled-300): the first ``--train`` of them
(file order) fit the weights, the rest are held out for the comparison. pooled-300 is never read.
No language model runs. The dataset (features, labels, texts, cosines between candidates) is
cached in an ``.npz`` file of plain arrays (read without pickle) so re-runs only refit.

The weights fit on all tuning questions are printed and written to the ``learned`` section of
``rag/evidence/weights.json`` (the other sections kept), with where they come from; the library
reads them from there. ``--no-write-weights`` only prints them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.evaluation.data import load_asqa, qa_pair_dict
from rag.evaluation.metrics import normalize_answer, str_em
from rag.evaluation.tuning import fit_standardized, oracle_text
from rag.evidence import (
    FEATURE_NAMES,
    EvidenceConfig,
    candidate_evidence,
    choose_evidence,
    is_whole,
    learned_eligible,
    lexical_scores,
    sentence_features,
    titled,
)
from rag.indexing.store import load_index, resolve_index_path
from rag.pipeline import PipelineConfig
from rag.retrieval import Retriever
from rag.text import content_words

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS_FILE = ROOT / "rag" / "evidence" / "weights.json"


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


def write_weights(path: Path, section: str, entry: dict[str, Any]) -> None:
    """Set the keys of ``entry`` (weights, bias, provenance) in ``section`` of the JSON weights file
    ``path``, keeping its other sections and the section's other keys (such as ``about``)."""
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    doc.setdefault(section, {}).update(entry)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def build(index_name: str, k: int, data_dir: Path) -> dict[str, np.ndarray]:
    """Features, labels and texts of every candidate sentence of the top ``k`` passages of every
    tuning question, and each question's candidate-to-candidate cosines (flattened, with offsets).
    Plain arrays only, so the cache is read without pickle."""
    config = PipelineConfig()
    index = load_index(resolve_index_path(index_name))
    retriever = Retriever(index, config.retrieval)
    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune")
    feats: list[np.ndarray] = []
    sims: list[np.ndarray] = []
    labels: list[bool] = []
    qids: list[int] = []
    passage_no: list[int] = []
    texts: list[str] = []
    whole: list[bool] = []
    for qi, item in enumerate(items):
        passages = [sp.passage for sp in retriever.retrieve(item.question, k)]
        cands = candidate_evidence(passages, config.evidence.min_words)
        if not cands:
            continue
        ctexts = [c.text for c in cands]
        both = index.embedder.encode([item.question, *ctexts, *titled(passages, cands)])
        vec = both[: len(ctexts) + 1]
        cosine = vec[1:] @ vec[0]
        title_cosine = both[len(ctexts) + 1 :] @ vec[0]
        lexical = lexical_scores(item.question, ctexts)
        feats.append(sentence_features(item.question, passages, cands, cosine, lexical, title_cosine))
        aliases = {normalize_answer(a) for qa in item.qa_pairs for a in qa.short_answers}
        aliases.discard("")
        labels.extend(any(a in normalize_answer(t) for a in aliases) for t in ctexts)
        qids.extend([qi] * len(cands))
        passage_no.extend(c.passage for c in cands)
        sims.append((vec[1:] @ vec[1:].T).astype(np.float32).ravel())
        texts.extend(ctexts)
        whole.extend(is_whole(c, passages[c.passage - 1]) for c in cands)
        if qi % 50 == 0:
            print(f"  {qi}/{len(items)} questions", flush=True)
    return {
        "features": np.concatenate(feats).astype(np.float64),
        "labels": np.array(labels, dtype=np.float64),
        "qids": np.array(qids),
        "passage": np.array(passage_no),
        "sims": np.concatenate(sims),
        "sim_offsets": np.cumsum([0, *(len(m) for m in sims)]),
        "texts": np.array(texts, dtype=np.str_),
        "whole": np.array(whole, dtype=bool),
    }


def question_sims(data: dict[str, np.ndarray], position: int) -> np.ndarray:
    """The candidate-to-candidate cosines of the ``position``-th question in the cache."""
    a, b = int(data["sim_offsets"][position]), int(data["sim_offsets"][position + 1])
    n = int(round((b - a) ** 0.5))
    return data["sims"][a:b].reshape(n, n)


def quote_in_order(
    data: dict[str, np.ndarray],
    rows: np.ndarray,
    order_scores: np.ndarray,
    eligible: list[bool],
    cfg: EvidenceConfig,
    budget: int,
) -> tuple[str, int, list[int]]:
    """What the pipeline would quote from one question's candidates (``rows`` of the cache): the
    ``eligible`` ones chosen as :func:`choose_evidence` chooses them by ``order_scores``, then
    sentences in choice order while they fit the word budget (the first always). Returns the text,
    its words, and the quoted candidates (positions in ``rows``)."""
    texts = [str(t) for t in data["texts"][rows]]
    order = choose_evidence(
        order_scores.tolist(),
        data["passage"][rows].tolist(),
        question_sims(data, int(data["qpos"][rows[0]])),
        [content_words(t) for t in texts],
        eligible,
        cfg,
    )
    picked: list[int] = []
    used = 0
    for j in order:
        n = len(texts[j].split())
        if picked and used + n > budget:
            continue
        picked.append(j)
        used += n
    return " ".join(texts[j] for j in picked), used, picked


def chosen_text(
    data: dict[str, np.ndarray], rows: np.ndarray, scores: np.ndarray, scorer: str, cfg: EvidenceConfig, budget: int
) -> tuple[str, int]:
    """What the pipeline would quote from one question's candidates: the evidence chosen as
    ``select_evidence`` chooses it (``scorer``), quoted as :func:`quote_in_order` quotes it."""
    x = data["features"][rows]
    whole = data["whole"][rows].tolist()
    if scorer == "learned":
        eligible = learned_eligible(scores.tolist(), whole, cfg.min_probability)
    else:
        relevance = x[:, 0] + cfg.lexical_weight * x[:, 1] + cfg.type_weight * x[:, 2]
        best = max((r for r, ok in zip(relevance, whole, strict=True) if ok), default=0.0)
        eligible = [ok and r >= cfg.keep_ratio * best for r, ok in zip(relevance, whole, strict=True)]
    text, used, _ = quote_in_order(data, rows, scores, eligible, cfg, budget)
    return text, used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--train", type=int, default=400, help="tuning questions that fit the weights for the comparison")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--budgets", default="70,80")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    ap.add_argument(
        "--write-weights",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the weights fit on all tuning questions into --weights-file (default: yes)",
    )
    ap.add_argument("--weights-file", type=Path, default=WEIGHTS_FILE, help="the library's weights (JSON)")
    args = ap.parse_args()
    data_dir = use_data_dir(args.data_dir)
    if args.cache and args.cache.exists():
        with np.load(args.cache) as cached:
            data = dict(cached)
    else:
        data = build(args.index, args.k, data_dir)
        if args.cache:
            np.savez(args.cache, **data)
    x, y, qids = data["features"], data["labels"], data["qids"]
    uniq = sorted(set(qids.tolist()))
    data["qpos"] = np.searchsorted(np.array(uniq), qids)
    print(f"{len(uniq)} tuning questions, {len(y)} candidate sentences, {y.mean():.3f} hold an answer")
    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune")
    train = qids < args.train
    raw, bias = fit_standardized(x[train], y[train])
    learned = x @ raw + bias
    hand_cfg = EvidenceConfig(scorer="hand", max_sentences=4, per_passage=2)
    hand = x[:, 0] + hand_cfg.lexical_weight * x[:, 1] + hand_cfg.type_weight * x[:, 2] + hand_cfg.rank_weight * x[:, 3]
    held = sorted(set(qids[~train].tolist()))
    print(f"fit on tuning questions 0-{args.train - 1}, compared on the other {len(held)}:")
    budgets = [int(b) for b in args.budgets.split(",")]
    runs = (
        ("hand (the previous default, 4 sentences, 2 a passage)", hand, "hand", hand_cfg),
        ("hand, 8 sentences, 3 a passage", hand, "hand", replace(hand_cfg, max_sentences=8, per_passage=3)),
        (
            "learned, 4 sentences, 2 a passage",
            learned,
            "learned",
            replace(EvidenceConfig(), max_sentences=4, per_passage=2),
        ),
        ("learned, 8 sentences, 3 a passage (the default)", learned, "learned", EvidenceConfig()),
        ("learned, default, no probability floor", learned, "learned", replace(EvidenceConfig(), min_probability=0.0)),
    )
    print(f"{'evidence':52} " + "  ".join(f"str_em@{b}w words" for b in budgets))
    for name, scores, scorer, cfg in runs:
        cells = []
        for b in budgets:
            ems, wds = [], []
            for qi in held:
                rows = np.nonzero(qids == qi)[0]
                text, used = chosen_text(data, rows, scores[rows], scorer, cfg, b)
                ems.append(100 * str_em(text, [qa_pair_dict(p) for p in items[qi].qa_pairs]))
                wds.append(used)
            cells.append(f"{statistics.fmean(ems):11.1f} {statistics.fmean(wds):5.1f}")
        print(f"{name:52} " + "  ".join(cells))
    cells = []
    for b in budgets:
        ems, wds = [], []
        for qi in held:
            qa = [qa_pair_dict(p) for p in items[qi].qa_pairs]
            rows = np.nonzero(qids == qi)[0]
            text, used = oracle_text([str(data["texts"][r]) for r in rows if data["whole"][r]], qa, b)
            ems.append(100 * str_em(text, qa))
            wds.append(used)
        cells.append(f"{statistics.fmean(ems):11.1f} {statistics.fmean(wds):5.1f}")
    print(f"{'ceiling: whole sentences chosen knowing the answers':52} " + "  ".join(cells))
    raw, bias = fit_standardized(x, y)
    print(f"\nweights fit on all {len(uniq)} tuning questions (the learned section of rag/evidence/weights.json):")
    for name, v in zip(FEATURE_NAMES, raw, strict=True):
        print(f'    "{name}": {v:.4f},')
    print(f"bias = {bias:.4f}")
    if args.write_weights:
        script = Path(__file__).resolve().relative_to(ROOT).as_posix()
        entry = {
            "weights": {name: round(float(v), 4) for name, v in zip(FEATURE_NAMES, raw, strict=True)},
            "bias": round(bias, 4),
            "provenance": {
                "data": (
                    f"asqa/asqa_dev.json: the {len(uniq)} tuning questions (outside pooled-300), "
                    f"top {args.k} passages of index {args.index}, {len(y)} candidate sentences"
                ),
                "command": " ".join(["python", script, *sys.argv[1:]]),
                "date": datetime.date.today().isoformat(),
                "script": script,
            },
        }
        write_weights(args.weights_file, "learned", entry)
        print(f"written: the learned section of {args.weights_file}")


if __name__ == "__main__":
    main()
