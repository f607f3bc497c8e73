"""Where to put the "not answered" gate: the best evidence relevance of tuning questions against
off-topic questions (written for this script), over the same index.

    python eval/answers/gate_calibration.py --index asqa --n 200

For each question: retrieve k passages (the defaults), score their sentences as
``rag.citing.evidence.select_evidence`` does, and keep the best score. Prints both distributions and,
for each candidate threshold, the share of tuning questions still answered and of off-topic
questions refused. Tuning questions are the dev questions outside pooled-300 (``--subset tune``);
pooled-300 is never read.
"""

from __future__ import annotations

import argparse
import statistics

from rag.citing.evidence import select_evidence
from rag.evaluation.data import load_asqa
from rag.indexing.store import load_index, resolve_index_path
from rag.pipeline import PipelineConfig
from rag.retrieval import Retriever

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


def best_relevance(retriever: Retriever, question: str, k: int, embed) -> float:  # noqa: ANN001
    passages = [sp.passage for sp in retriever.retrieve(question, k)]
    return select_evidence(question, passages, embed=embed).relevance


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", default="asqa")
    ap.add_argument("--n", type=int, default=200, help="tuning questions (first n of --subset tune)")
    args = ap.parse_args()
    config = PipelineConfig()
    index = load_index(resolve_index_path(args.index))
    retriever = Retriever(index, config.retrieval)
    embed = index.embedder.encode
    tune = [best_relevance(retriever, it.question, config.k, embed) for it in load_asqa(subset="tune", limit=args.n)]
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
