"""The generator as the evidence reader: shown the learned scorer's best whole candidate sentences,
it is asked for the short answer(s); does a sentence holding what it answered make better
evidence? A logistic regression on (learned log-odds, holds the reader's answer) is fit on tuning
questions 200-399 and compared with the learned score alone on 400-647, by what the evidence chosen
holds within 80 words, paired.

    python eval/answers/evidence_learn.py --cache /tmp/evl.npz      # builds the candidate cache
    python eval/answers/reader_extract.py --cache /tmp/evl.npz --answers /tmp/reader.json

Tuning questions only (pooled-300 is never read). As in ``evidence_learn.py`` the learned weights
are fit on tuning questions 0-399. The reader's replies are kept in ``--answers`` (JSON) so a
re-run only refits. The last lines are the combination fit on all of 200-647:
``rag.citing.evidence.READER_WEIGHTS``. One prompt a question, ``rag.pipeline.read_answer``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from evidence_learn import bootstrap_interval, fit_logistic, load_learned, oracle_text, quote_in_order

from rag.citing.evidence import EvidenceConfig, answer_pieces, holds_answer, learned_eligible
from rag.evaluation.data import _qa_pair_dict, load_asqa
from rag.evaluation.metrics import str_em
from rag.generation import load_generator
from rag.pipeline import prime_reader, read_answer


def read(
    data: dict[str, np.ndarray], learned: np.ndarray, questions: range, model: str, top: int, path: Path | None
) -> dict[int, str]:
    """The reader's reply for each question, from its ``top`` whole candidates by learned score;
    replies already in ``path`` are not asked again."""
    items = load_asqa(subset="tune")
    replies: dict[int, str] = {}
    if path and path.exists():
        replies = {int(k): v for k, v in json.loads(path.read_text()).items()}
    todo = [qi for qi in questions if qi not in replies and (data["qids"] == qi).any()]
    if todo:
        generator = load_generator(model)
        prime_reader(generator)
        start = time.time()
        for qi in todo:
            rows = np.nonzero(data["qids"] == qi)[0]
            order = [int(r) for r in rows[np.argsort(-learned[rows], kind="stable")] if data["whole"][r]][:top]
            replies[qi] = read_answer(generator, items[qi].question, [str(data["texts"][r]) for r in order])
        print(f"read {len(todo)} questions in {time.time() - start:.0f} s", flush=True)
        if path:
            path.write_text(json.dumps(replies, indent=0, ensure_ascii=False))
    return replies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the .npz evidence_learn.py builds")
    ap.add_argument("--answers", type=Path, default=None, help="JSON file keeping the reader's replies")
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--budget", type=int, default=80)
    args = ap.parse_args()
    cfg = EvidenceConfig()
    data, learned = load_learned(args.cache)
    y, qids = data["labels"], data["qids"]
    uniq = sorted(set(qids.tolist()))
    replies = read(data, learned, range(200, len(uniq)), args.model, cfg.reader_sentences, args.answers)
    items = load_asqa(subset="tune")
    hits = np.zeros(len(y))
    for qi, reply in replies.items():
        rows = np.nonzero(qids == qi)[0]
        pieces = answer_pieces(items[qi].question, reply)
        hits[rows] = holds_answer(pieces, [str(t) for t in data["texts"][rows]])
    seen = np.isin(qids, list(replies))
    print(
        f"questions 200-647: a sentence holding the reader's answer holds a short answer in "
        f"{y[seen & (hits == 1)].mean():.3f} of {int((seen & (hits == 1)).sum())} cases, "
        f"another in {y[seen & (hits == 0)].mean():.3f}"
    )

    fit_rows = seen & (qids < 400)
    w = fit_logistic(np.stack([learned[fit_rows], hits[fit_rows]], 1), y[fit_rows], l2=0.1)
    print(f"combination fit on 200-399: {w[0]:.4f} * learned + {w[1]:.4f} * holds + {w[2]:.4f}")
    combined = w[0] * learned + w[1] * hits + w[2]

    held = sorted(set(qids[seen & (qids >= 400)].tolist()))

    def quoted(scores: np.ndarray) -> tuple[list[float], float]:
        ems, words = [], []
        for qi in held:
            rows = np.nonzero(qids == qi)[0]
            eligible = learned_eligible(scores[rows].tolist(), data["whole"][rows].tolist(), cfg.min_probability)
            text, used, _ = quote_in_order(data, rows, scores[rows], eligible, cfg, args.budget)
            ems.append(100 * str_em(text, [_qa_pair_dict(p) for p in items[qi].qa_pairs]))
            words.append(used)
        return ems, statistics.fmean(words)

    base, base_words = quoted(learned)
    both, both_words = quoted(combined)
    ceiling = []
    for qi in held:
        qa = [_qa_pair_dict(p) for p in items[qi].qa_pairs]
        rows = np.nonzero(qids == qi)[0]
        text, _ = oracle_text([str(data["texts"][r]) for r in rows if data["whole"][r]], qa, args.budget)
        ceiling.append(100 * str_em(text, qa))
    diff = np.array(both) - np.array(base)
    rng = np.random.default_rng(0)
    lo, hi = bootstrap_interval(diff, rng)
    print(f"evidence within {args.budget} words, {len(held)} held-out tuning questions (400-647):")
    print(f"  learned alone                  str_em {statistics.fmean(base):5.1f}  words {base_words:5.1f}")
    print(
        f"  learned and reader combined    str_em {statistics.fmean(both):5.1f}  words {both_words:5.1f}"
        f"  paired {diff.mean():+.2f} [{lo:+.2f}, {hi:+.2f}]  ({int((diff > 0).sum())} better, "
        f"{int((diff < 0).sum())} worse)"
    )
    print(f"  ceiling (whole sentences chosen knowing the answers) str_em {statistics.fmean(ceiling):5.1f}")
    w = fit_logistic(np.stack([learned[seen], hits[seen]], 1), y[seen], l2=0.1)
    print("\ncombination fit on all of 200-647 (rag.citing.evidence.READER_WEIGHTS):")
    print(f'    {{"scale": {w[0]:.4f}, "holds": {w[1]:.4f}, "bias": {w[2]:.4f}}}')


if __name__ == "__main__":
    main()
