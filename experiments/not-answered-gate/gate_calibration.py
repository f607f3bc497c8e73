"""Where to put the "not answered" gate: the best evidence relevance of tuning questions against
off-topic questions (written for this script), over the same index.

    python experiments/not-answered-gate/gate_calibration.py --index asqa --n 200
    python experiments/not-answered-gate/gate_calibration.py --index asqa --held-out   # a fresh off-topic set

For each question: retrieve k passages (the defaults), score their sentences as
``rag.evidence.select_evidence`` does, and keep the best score. Prints both distributions and,
for each candidate threshold, the share of tuning questions still answered and of off-topic
questions refused. Tuning questions are the dev questions outside pooled-300 (``--subset tune``);
pooled-300 is never read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from rag.evaluation.data import load_asqa
from rag.evidence import select_evidence
from rag.indexing.store import load_index, resolve_index_path
from rag.pipeline import PipelineConfig
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[2]

# Questions no passage of an encyclopaedia-like corpus should answer: personal, procedural,
# other languages, nonsense, punctuation.
OFF_TOPIC = (
    "???",
    "...",
    "asdf qwerty zxcv",
    "How do I reset the password of my home router?",
    "What should I cook for dinner tonight with eggs and spinach?",
    "Is it going to rain in my town tomorrow afternoon?",
    "What is my neighbour's phone number?",
    "Can you recommend a good dentist near me?",
    "Quelle est la capitale de la France ?",
    "Wie spät ist es jetzt?",
    "¿Dónde está la estación de tren más cercana?",
    "How many unread emails do I have?",
    "Why does my laptop fan make a clicking noise?",
    "What did I have for breakfast yesterday?",
    "Which shoes go best with a grey suit?",
    "How long should I boil pasta for it to be al dente?",
    "What is the best way to fold a fitted sheet?",
    "Should I repaint my kitchen blue or green?",
    "How do I unclog a bathroom sink drain?",
    "What time does the corner shop close on Sundays?",
)

# A second set, written after the threshold was chosen and never used to choose anything: the
# refusal rate at the chosen threshold on these is the honest figure (``--held-out``).
HELD_OUT = (
    "!!!",
    "-- ** --",
    "blorf snazzle quimbo",
    "Where did I park my car this morning?",
    "How much should I tip a taxi driver?",
    "What is the wifi password at my office?",
    "Can my cat eat the leftover tuna from my sandwich?",
    "Qui a gagné le match de football hier soir ?",
    "Was soll ich heute Abend kochen?",
    "¿Cuánto cuesta un billete de autobús?",
    "Quanto costa un caffè a Roma oggi?",
    "How do I get red wine out of a white carpet?",
    "Why is my phone battery draining so fast?",
    "Should I take an umbrella to work today?",
    "What is a good name for a goldfish?",
    "How do I turn off notifications on my tablet?",
    "When is my next dentist appointment?",
    "Is it rude to leave a party without saying goodbye?",
    "How many steps did I walk yesterday?",
    "Which bus goes from my house to the airport?",
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


def best_relevance(retriever: Retriever, question: str, k: int, embed) -> float:  # noqa: ANN001
    passages = [sp.passage for sp in retriever.retrieve(question, k)]
    return select_evidence(question, passages, embed=embed).relevance


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--n", type=int, default=200, help="tuning questions (first n of --subset tune)")
    ap.add_argument(
        "--held-out",
        action="store_true",
        help="only the held-out off-topic set, refused or not at the current threshold",
    )
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()
    config = PipelineConfig()
    index = load_index(resolve_index_path(args.index))
    retriever = Retriever(index, config.retrieval)
    embed = index.embedder.encode
    if args.held_out:
        gate = config.evidence.min_relevance
        held = [best_relevance(retriever, q, config.k, embed) for q in HELD_OUT]
        refused = sum(v < gate for v in held)
        print(f"held-out off-topic: {refused} of {len(held)} refused at min_relevance {gate}")
        print(
            "\n".join(
                f"  {'refused ' if v < gate else 'ANSWERED'} {v:.2f} {q}" for q, v in zip(HELD_OUT, held, strict=True)
            )
        )
        return
    items = load_asqa(use_data_dir(args.data_dir) / "asqa" / "asqa_dev.json", subset="tune", limit=args.n)
    tune = [best_relevance(retriever, it.question, config.k, embed) for it in items]
    off = [best_relevance(retriever, q, config.k, embed) for q in OFF_TOPIC]
    for name, values in (("tuning", tune), ("off-topic", off)):
        q = statistics.quantiles(values, n=20)
        print(
            f"{name}: n={len(values)} min {min(values):.3f} p5 {q[0]:.3f} median {statistics.median(values):.3f} "
            f"p95 {q[-1]:.3f} max {max(values):.3f}"
        )
    print("\n| threshold | tuning answered | off-topic refused |\n|---|---|---|")
    for t in (0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        answered = sum(v >= t for v in tune) / len(tune)
        refused = sum(v < t for v in off) / len(off)
        print(f"| {t:.2f} | {100 * answered:.1f}% | {100 * refused:.1f}% |")
    print("\noff-topic:", ", ".join(f"{q!r} {v:.2f}" for q, v in zip(OFF_TOPIC, off, strict=True)))


if __name__ == "__main__":
    main()
