"""Can the 0.5B generator read evidence better than the learned scorer's cheap features? A probe on
tuning questions: the model is shown the question and the learned scorer's top whole candidate
sentences, numbered, and asked which one answers the question; its probabilities over the numbers
are compared with the learned scores, alone and combined.

    python experiments/evidence-choice/evidence_learn.py --cache /tmp/evl.npz      # builds the candidate cache
    python experiments/evidence-choice/reader_probe.py --cache /tmp/evl.npz

Tuning questions only (pooled-300 is never read). As in ``evidence_learn.py``, the learned weights
are fit on tuning questions 0-399; the model reads the candidates of questions 200-647; a logistic
regression on (learned log-odds, the model's log-probability) is fit on 200-399 and both are
compared on 400-647, by what the evidence chosen from them holds within 80 words. One prompt a
question (about 1 s here).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from rag.evaluation.data import AsqaItem, load_asqa, qa_pair_dict
from rag.evaluation.metrics import str_em
from rag.evaluation.tuning import bootstrap_interval, fit_logistic, fit_standardized
from rag.evidence import EvidenceConfig, choose_evidence, learned_eligible
from rag.models import resolve_generator
from rag.text import content_words

ROOT = Path(__file__).resolve().parents[2]

PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nQuestion: {question}\n\n"
    "Sentences:\n{lines}\n\nWhich sentence answers the question? Reply with its number only.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


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


def read(
    data: dict[str, np.ndarray], learned: np.ndarray, items: list[AsqaItem], questions: range, model: str, top: int
) -> np.ndarray:
    """The model's probability for each of the top ``top`` whole candidates of each question
    (positions in ``items``, the tuning questions; by learned score) to be the one that answers;
    NaN for the other candidates."""
    from llama_cpp import Llama

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
    uniq = sorted(set(qids.tolist()))
    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune")
    probs = read(data, learned, items, range(200, len(uniq)), args.model, args.top)
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
            ems.append(100 * str_em(text, [qa_pair_dict(p) for p in items[qi].qa_pairs]))
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
