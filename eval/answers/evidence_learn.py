"""Learn the evidence scorer's weights on tuning questions: a logistic regression that predicts
whether a candidate sentence holds one of the question's short answers, from the cheap features of
``rag.citing.evidence.sentence_features``; then compare, on held-out tuning questions, what the
evidence chosen by the learned score and by the hand-set score holds within a word budget.

    python eval/answers/evidence_learn.py --index asqa --cache /tmp/evlearn-asqa.npz

Tuning questions only (the 648 dev questions outside pooled-300): the first ``--train`` of them
(file order) fit the weights, the rest are held out for the comparison. pooled-300 is never read.
No language model runs. The dataset (features, labels, texts, cosines between candidates) is
cached in an ``.npz`` file of plain arrays (read without pickle) so re-runs only refit.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.citing.attribution import content_words
from rag.citing.evidence import (
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
from rag.evaluation.data import _qa_pair_dict, load_asqa
from rag.evaluation.metrics import normalize_answer, str_em
from rag.indexing.store import load_index, resolve_index_path
from rag.pipeline import PipelineConfig
from rag.retrieval import Retriever


def build(index_name: str, k: int) -> dict[str, np.ndarray]:
    """Features, labels and texts of every candidate sentence of the top ``k`` passages of every
    tuning question, and each question's candidate-to-candidate cosines (flattened, with offsets).
    Plain arrays only, so the cache is read without pickle."""
    config = PipelineConfig()
    index = load_index(resolve_index_path(index_name))
    retriever = Retriever(index, config.retrieval)
    items = load_asqa(subset="tune")
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


def load_learned(cache: Path, train: int = 400) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The cached candidates (with ``qpos``, each row's question position) and their learned
    log-odds, the weights fit on tuning questions ``0 .. train - 1`` (as :func:`main` compares)."""
    with np.load(cache) as cached:
        data = dict(cached)
    x, y, qids = data["features"], data["labels"], data["qids"]
    data["qpos"] = np.searchsorted(np.array(sorted(set(qids.tolist()))), qids)
    raw, bias = fit(x[qids < train], y[qids < train])
    return data, x @ raw + bias


def bootstrap_interval(diff: np.ndarray, rng: np.random.Generator, resamples: int = 2000) -> tuple[float, float]:
    """The 95% percentile interval of the mean of the paired differences ``diff`` over
    ``resamples`` bootstrap resamples drawn from ``rng`` (shared across calls, so a script's
    intervals stay those it printed before)."""
    boot = [rng.choice(diff, len(diff)).mean() for _ in range(resamples)]
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return float(lo), float(hi)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    """Newton's method on the L2-penalised log loss; returns weights with the bias last."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = l2 * np.eye(xb.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Weights and bias on the raw features (standardised for the fit, so the penalty treats
    every feature alike; folded back so the library needs no scaler)."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    w = fit_logistic((x - mu) / sd, y, l2=l2)
    raw = w[:-1] / sd
    return raw, float(w[-1] - (w[:-1] * mu / sd).sum())


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


def oracle_text(texts: Sequence[str], qa: list[dict], budget: int) -> tuple[str, int]:
    """The ceiling of any choice of whole sentences (``texts``): greedily the sentence that adds
    the most short answers per word (knowing the answers), while it fits the word budget."""
    out: list[str] = []
    used = 0
    pool = list(texts)
    while True:
        base = str_em(" ".join(out), qa)
        best: tuple[float, str, int] | None = None
        for t in pool:
            n = len(t.split())
            if t in out or used + n > budget:
                continue
            gain = (str_em(" ".join([*out, t]), qa) - base) / n
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, t, n)
        if best is None:
            return " ".join(out), used
        out.append(best[1])
        used += best[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--train", type=int, default=400, help="tuning questions that fit the weights for the comparison")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--budgets", default="70,80")
    args = ap.parse_args()
    if args.cache and args.cache.exists():
        with np.load(args.cache) as cached:
            data = dict(cached)
    else:
        data = build(args.index, args.k)
        if args.cache:
            np.savez(args.cache, **data)
    x, y, qids = data["features"], data["labels"], data["qids"]
    uniq = sorted(set(qids.tolist()))
    data["qpos"] = np.searchsorted(np.array(uniq), qids)
    print(f"{len(uniq)} tuning questions, {len(y)} candidate sentences, {y.mean():.3f} hold an answer")
    items = load_asqa(subset="tune")
    train = qids < args.train
    raw, bias = fit(x[train], y[train])
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
                ems.append(100 * str_em(text, [_qa_pair_dict(p) for p in items[qi].qa_pairs]))
                wds.append(used)
            cells.append(f"{statistics.fmean(ems):11.1f} {statistics.fmean(wds):5.1f}")
        print(f"{name:52} " + "  ".join(cells))
    cells = []
    for b in budgets:
        ems, wds = [], []
        for qi in held:
            qa = [_qa_pair_dict(p) for p in items[qi].qa_pairs]
            rows = np.nonzero(qids == qi)[0]
            text, used = oracle_text([str(data["texts"][r]) for r in rows if data["whole"][r]], qa, b)
            ems.append(100 * str_em(text, qa))
            wds.append(used)
        cells.append(f"{statistics.fmean(ems):11.1f} {statistics.fmean(wds):5.1f}")
    print(f"{'ceiling: whole sentences chosen knowing the answers':52} " + "  ".join(cells))
    raw, bias = fit(x, y)
    print(f"\nweights fit on all {len(uniq)} tuning questions (rag.citing.evidence.LEARNED_WEIGHTS):")
    for name, v in zip(FEATURE_NAMES, raw, strict=True):
        print(f'    "{name}": {v:.4f},')
    print(f"LEARNED_BIAS = {bias:.4f}")


if __name__ == "__main__":
    main()
