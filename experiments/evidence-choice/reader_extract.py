"""The generator as the evidence reader: shown the learned scorer's best whole candidate sentences,
it is asked for the short answer(s); does a sentence holding what it answered make better
evidence? A logistic regression on (learned log-odds, holds the reader's answer) is fit on tuning
questions 200-399 and compared with the learned score alone on 400-647, by what the evidence chosen
holds within 80 words, paired.

    python experiments/evidence-choice/evidence_learn.py --cache /tmp/evl.npz      # builds the candidate cache
    python experiments/evidence-choice/reader_extract.py --cache /tmp/evl.npz --answers /tmp/reader.json

Tuning questions only (pooled-300 is never read). As in ``evidence_learn.py`` the learned weights
are fit on tuning questions 0-399. The reader's replies are kept in ``--answers`` (JSON) so a
re-run only refits. The last lines are the combination fit on all of 200-647, the library's
reader weights: they are written to the ``reader`` section of ``rag/evidence/weights.json`` (the
other sections kept), with where they come from; ``--no-write-weights`` only prints them. One
prompt a question, ``rag.pipeline.read_answer``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.evaluation.data import AsqaItem, load_asqa, qa_pair_dict
from rag.evaluation.metrics import str_em
from rag.evaluation.tuning import bootstrap_interval, fit_logistic, fit_standardized, oracle_text
from rag.evidence import EvidenceConfig, answer_pieces, choose_evidence, holds_answer, learned_eligible
from rag.generation import load_generator
from rag.pipeline import prime_reader, read_answer
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
    data: dict[str, np.ndarray],
    learned: np.ndarray,
    items: list[AsqaItem],
    questions: range,
    model: str,
    top: int,
    path: Path | None,
) -> dict[int, str]:
    """The reader's reply for each question (positions in ``items``, the tuning questions), from
    its ``top`` whole candidates by learned score; replies already in ``path`` are not asked again."""
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
        help="write the combination fit on all of 200-647 into --weights-file (default: yes)",
    )
    ap.add_argument("--weights-file", type=Path, default=WEIGHTS_FILE, help="the library's weights (JSON)")
    args = ap.parse_args()
    data_dir = use_data_dir(args.data_dir)
    cfg = EvidenceConfig()
    data, learned = load_learned(args.cache)
    y, qids = data["labels"], data["qids"]
    uniq = sorted(set(qids.tolist()))
    items = load_asqa(data_dir / "asqa" / "asqa_dev.json", subset="tune")
    replies = read(data, learned, items, range(200, len(uniq)), args.model, cfg.reader_sentences, args.answers)
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
            ems.append(100 * str_em(text, [qa_pair_dict(p) for p in items[qi].qa_pairs]))
            words.append(used)
        return ems, statistics.fmean(words)

    base, base_words = quoted(learned)
    both, both_words = quoted(combined)
    ceiling = []
    for qi in held:
        qa = [qa_pair_dict(p) for p in items[qi].qa_pairs]
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
    print("\ncombination fit on all of 200-647 (the reader section of rag/evidence/weights.json):")
    print(f'    {{"scale": {w[0]:.4f}, "holds": {w[1]:.4f}, "bias": {w[2]:.4f}}}')
    if args.write_weights:
        script = Path(__file__).resolve().relative_to(ROOT).as_posix()
        entry = {
            "weights": {"scale": round(float(w[0]), 4), "holds": round(float(w[1]), 4), "bias": round(float(w[2]), 4)},
            "provenance": {
                "data": (
                    f"asqa/asqa_dev.json: tuning questions 200-{len(uniq) - 1} (outside pooled-300) read by "
                    f"{args.model}, {int(seen.sum())} candidate sentences; learned scores fit on tuning questions 0-399"
                ),
                "command": " ".join(["python", script, *sys.argv[1:]]),
                "date": datetime.date.today().isoformat(),
                "script": script,
            },
        }
        write_weights(args.weights_file, "reader", entry)
        print(f"written: the reader section of {args.weights_file}")


if __name__ == "__main__":
    main()
