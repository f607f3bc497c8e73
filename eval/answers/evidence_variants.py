"""Variants of the learned evidence choice that need no new model, on held-out tuning questions:
a floor relative to the best sentence's probability (to keep off-topic quotes out), ordering by
probability per word (so that one long sentence does not fill the budget), and a longer budget.

    python eval/answers/evidence_learn.py --cache /tmp/evl.npz      # builds the candidate cache
    python eval/answers/evidence_variants.py --cache /tmp/evl.npz

As in ``evidence_learn.py``: weights fit on tuning questions 0-399, compared on the other 248 by
what the chosen evidence holds within the word budget, quoted in choice order; paired with the
default, 95% bootstrap intervals over questions. No language model runs; pooled-300 is never read.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
from evidence_learn import bootstrap_interval, load_learned, quote_in_order

from rag.citing.evidence import EvidenceConfig, learned_eligible
from rag.evaluation.data import _qa_pair_dict, load_asqa
from rag.evaluation.metrics import str_em


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the .npz evidence_learn.py builds")
    args = ap.parse_args()
    data, learned = load_learned(args.cache)
    y, qids = data["labels"], data["qids"]
    items = load_asqa(subset="tune")
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
            ems.append(100 * str_em(text, [_qa_pair_dict(p) for p in items[qi].qa_pairs]))
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
