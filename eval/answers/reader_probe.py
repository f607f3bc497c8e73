"""Can the 0.5B generator read evidence better than the learned scorer's cheap features? A probe on
tuning questions: the model is shown the question and the learned scorer's top whole candidate
sentences, numbered, and asked which one answers the question; its probabilities over the numbers
are compared with the learned scores, alone and combined.

    python eval/answers/evidence_learn.py --cache /tmp/evl.npz      # builds the candidate cache
    python eval/answers/reader_probe.py --cache /tmp/evl.npz

Tuning questions only (pooled-300 is never read). As in ``evidence_learn.py``, the learned weights
are fit on tuning questions 0-399; the model reads the candidates of questions 200-647; a logistic
regression on (learned log-odds, the model's log-probability) is fit on 200-399 and both are
compared on 400-647, by what the evidence chosen from them holds within 80 words. One prompt a
question (about 1 s here).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from evidence_learn import bootstrap_interval, fit_logistic, load_learned, quote_in_order

from rag.citing.evidence import EvidenceConfig, learned_eligible
from rag.evaluation.data import _qa_pair_dict, load_asqa
from rag.evaluation.metrics import str_em
from rag.models import resolve_generator

PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nQuestion: {question}\n\n"
    "Sentences:\n{lines}\n\nWhich sentence answers the question? Reply with its number only.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


def read(data: dict[str, np.ndarray], learned: np.ndarray, questions: range, model: str, top: int) -> np.ndarray:
    """The model's probability for each of the top ``top`` whole candidates of each question (by
    learned score) to be the one that answers; NaN for the other candidates."""
    from llama_cpp import Llama

    items = load_asqa(subset="tune")
    llm = Llama(model_path=str(resolve_generator(model)), n_ctx=2048, logits_all=False, seed=0, verbose=False)
    digits = [llm.tokenize(str(i).encode(), add_bos=False, special=False)[0] for i in range(1, top + 1)]
    probs = np.full(len(learned), np.nan)
    qids, start = data["qids"], time.time()
    for qi in questions:
        rows = np.nonzero(qids == qi)[0]
        if len(rows) == 0:
            continue
        order = [int(r) for r in rows[np.argsort(-learned[rows], kind="stable")] if data["whole"][r]][:top]
        if not order:
            continue
        lines = "\n".join(f"{i + 1}. {data['texts'][r]}" for i, r in enumerate(order))
        tokens = llm.tokenize(
            PROMPT.format(question=items[qi].question, lines=lines).encode(), add_bos=True, special=True
        )
        llm.reset()
        llm.eval(tokens)
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
        z = np.array([logits[d] for d in digits[: len(order)]], dtype=np.float64)
        p = np.exp(z - z.max())
        probs[order] = p / p.sum()
    print(f"read {len(questions)} questions in {time.time() - start:.0f} s", flush=True)
    return probs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the .npz evidence_learn.py builds")
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--budget", type=int, default=80)
    args = ap.parse_args()
    data, learned = load_learned(args.cache)
    y, qids = data["labels"], data["qids"]
    uniq = sorted(set(qids.tolist()))
    probs = read(data, learned, range(200, len(uniq)), args.model, args.top)
    seen = ~np.isnan(probs)

    # how well each ranks the model's candidates: AUC within a question, and the top one
    pairs = concordant_model = concordant_learned = 0.0
    top_model = top_learned = with_answer = 0
    for qi in sorted(set(qids[seen].tolist())):
        rows = np.nonzero((qids == qi) & seen)[0]
        pos, neg = rows[y[rows] == 1], rows[y[rows] == 0]
        if len(pos) == 0:
            continue
        with_answer += 1
        top_model += int(y[rows[np.argmax(probs[rows])]])
        top_learned += int(y[rows[np.argmax(learned[rows])]])
        for i in pos:
            for j in neg:
                pairs += 1
                concordant_model += (probs[i] > probs[j]) + 0.5 * (probs[i] == probs[j])
                concordant_learned += (learned[i] > learned[j]) + 0.5 * (learned[i] == learned[j])
    print(f"questions 200-647 with an answer among the top {args.top}: {with_answer}")
    print(f"  the top one holds an answer: learned {top_learned}, model {top_model}")
    print(f"  AUC within a question: learned {concordant_learned / pairs:.3f}, model {concordant_model / pairs:.3f}")

    # combine: log-odds of a logistic regression on (learned, log p), fit on 200-399
    logp = np.log(np.clip(np.nan_to_num(probs, nan=1.0), 1e-6, 1.0))
    for qi in sorted(set(qids[seen].tolist())):
        unseen = (qids == qi) & ~seen
        logp[unseen] = logp[(qids == qi) & seen].min() - 1.0  # below the model's least likely
    fit_rows = seen & (qids < 400)
    w = fit_logistic(np.stack([learned[fit_rows], logp[fit_rows]], 1), y[fit_rows], l2=0.1)
    print(f"combination fit on 200-399: {w[0]:.3f} * learned + {w[1]:.3f} * log p + {w[2]:.3f}")
    combined = w[0] * learned + w[1] * logp + w[2]

    items = load_asqa(subset="tune")
    held = sorted(set(qids[seen & (qids >= 400)].tolist()))
    cfg = EvidenceConfig()

    def quoted(order_scores: np.ndarray, eligibility: np.ndarray) -> tuple[float, float, list[float]]:
        """Evidence eligible by ``eligibility`` (log-odds, as the learned scorer's floor reads
        them), chosen and quoted in the order of ``order_scores``."""
        ems, words = [], []
        for qi in held:
            rows = np.nonzero(qids == qi)[0]
            whole = data["whole"][rows].tolist()
            eligible = learned_eligible(eligibility[rows].tolist(), whole, cfg.min_probability)
            text, used, _ = quote_in_order(data, rows, order_scores[rows], eligible, cfg, args.budget)
            ems.append(100 * str_em(text, [_qa_pair_dict(p) for p in items[qi].qa_pairs]))
            words.append(used)
        return statistics.fmean(ems), statistics.fmean(words), ems

    rng = np.random.default_rng(0)
    base = quoted(learned, learned)
    print(f"evidence within {args.budget} words, {len(held)} held-out tuning questions (400-647):")
    print(f"  learned (the default)                     str_em {base[0]:5.1f}  words {base[1]:5.1f}")
    rows = [("learned and model combined", quoted(combined, combined))]
    rows += [(f"learned order + {a} * log p, same choice", quoted(learned + a * logp, learned)) for a in (0.25, 1.0)]
    for name, (em, words, ems) in rows:
        diff = np.array(ems) - np.array(base[2])
        lo, hi = bootstrap_interval(diff, rng)
        print(f"  {name:41} str_em {em:5.1f}  words {words:5.1f}  paired {diff.mean():+.2f} [{lo:+.2f}, {hi:+.2f}]")


if __name__ == "__main__":
    main()
