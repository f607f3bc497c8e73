"""Variants of the learned evidence choice that need no new model, on held-out tuning questions:
a floor relative to the best sentence's probability (to keep off-topic quotes out), ordering by
probability per word (so that one long sentence does not fill the budget), and a longer budget.

    python experiments/evidence-choice/evidence_learn.py --cache /tmp/evl.npz      # builds the candidate cache
    python experiments/evidence-choice/evidence_variants.py --cache /tmp/evl.npz

As in ``evidence_learn.py``: weights fit on tuning questions 0-399, compared on the other 248 by
what the chosen evidence holds within the word budget, quoted in choice order; paired with the
default, 95% bootstrap intervals over questions. No language model runs; pooled-300 is never read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np

from rag.evaluation.data import load_asqa, qa_pair_dict
from rag.evaluation.metrics import str_em
from rag.evaluation.tuning import bootstrap_interval, fit_standardized
from rag.evidence import EvidenceConfig, choose_evidence, learned_eligible
from rag.text import content_words

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


# The candidate cache that evidence_learn.py writes, read as it reads it (a copy of its helpers).
def question_sims(data: dict[str, np.ndarray], position: int) -> np.ndarray:
    """The candidate-to-candidate cosines of the ``position``-th question in the cache."""
    a, b = int(data["sim_offsets"][position]), int(data["sim_offsets"][position + 1])
    n = int(round((b - a) ** 0.5))
    return data["sims"][a:b].reshape(n, n)


def load_learned(cache: Path, train: int = 400) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The cached candidates (with ``qpos``, each row's question position) and their learned
    log-odds, the weights fit on tuning questions ``0 .. train - 1`` (as evidence_learn.py compares)."""
    with np.load(cache) as cached:
        data = dict(cached)
    x, y, qids = data["features"], data["labels"], data["qids"]
    data["qpos"] = np.searchsorted(np.array(sorted(set(qids.tolist()))), qids)
    raw, bias = fit_standardized(x[qids < train], y[qids < train])
    return data, x @ raw + bias


def quote_in_order(
    data: dict[str, np.ndarray],
    rows: np.ndarray,
    order_scores: np.ndarray,
    eligible: list[bool],
    cfg: EvidenceConfig,
    budget: int,
) -> tuple[str, int, list[int]]:
    """What the pipeline would quote from one question's candidates (``rows`` of the cache): the
    ``eligible`` ones chosen as ``choose_evidence`` chooses them by ``order_scores``, then
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the .npz evidence_learn.py builds")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    data_dir = use_data_dir(args.data_dir)
    data, learned = load_learned(args.cache)
    y, qids = data["labels"], data["qids"]
    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune")
    held = sorted(set(qids[qids >= 400].tolist()))
    cfg = EvidenceConfig()

    def run(relative: float = 0.0, per_word: float = 0.0, budget: int = 80) -> tuple[float, float, float, list[float]]:
        ems, used_words, holds = [], [], []
        for qi in held:
            rows = np.nonzero(qids == qi)[0]
            n_words = np.array([len(str(t).split()) for t in data["texts"][rows]])
            scores = learned[rows]
            eligible = learned_eligible(scores.tolist(), data["whole"][rows].tolist(), cfg.min_probability)
            prob = 1.0 / (1.0 + np.exp(-scores))
            best = max((prob[i] for i, ok in enumerate(eligible) if ok), default=0.0)
            eligible = [ok and prob[i] >= relative * best for i, ok in enumerate(eligible)]
            text, used, picked = quote_in_order(data, rows, scores - per_word * np.log(n_words), eligible, cfg, budget)
            holds.extend(float(y[rows[j]]) for j in picked)
            ems.append(100 * str_em(text, [qa_pair_dict(p) for p in items[qi].qa_pairs]))
            used_words.append(used)
        return statistics.fmean(ems), statistics.fmean(used_words), 100 * statistics.fmean(holds), ems

    rng = np.random.default_rng(0)
    base = run()
    print(f"{len(held)} held-out tuning questions; evidence quoted in choice order within the budget")
    print(f"{'variant':58} str_em  words  quotes holding an answer (%)  paired with the default")
    print(f"{'the default (80 words, floor 0.05)':58} {base[0]:6.1f} {base[1]:6.1f} {base[2]:6.1f}")
    variants = [
        (f"relative floor: at least {r:.0%} of the best's probability", {"relative": r}) for r in (0.1, 0.2, 0.3, 0.5)
    ]
    variants += [(f"ordered by log-odds - {a} * log(words)", {"per_word": a}) for a in (0.5, 1.0)]
    variants += [("a budget of 90 words", {"budget": 90})]
    for name, kwargs in variants:
        em, words, hold, ems = run(**kwargs)
        diff = np.array(ems) - np.array(base[3])
        lo, hi = bootstrap_interval(diff, rng)
        print(f"{name:58} {em:6.1f} {words:6.1f} {hold:6.1f}  {diff.mean():+.1f} [{lo:+.1f}, {hi:+.1f}]")


if __name__ == "__main__":
    main()
