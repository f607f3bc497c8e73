"""Retrieval evaluation on ASQA: ALCE's retrieval recall (EM recall of the top-k passages).

For a question, recall@k is the fraction of its ``qa_pairs`` for which some normalised short
answer is a substring of the normalised concatenation of the top-k passages' texts; the benchmark
number is 100 x the mean over questions (ALCE's "retrieval recall", e.g. 56.8 for GTR top-5 on
Wikipedia).

Run: ``python -m rag.evaluation.retrieval --index indexes/asqa --out results/retrieval/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.evaluation.metrics import normalize_answer
from rag.files import read_json
from rag.indexing.store import Index, load_index
from rag.paths import benchmark_data_dir
from rag.retrieval import RetrievalConfig, Retriever

logger = logging.getLogger(__name__)

DEFAULT_KS: tuple[int, ...] = (1, 3, 5, 10, 20)


def em_recall(passages: Sequence[str], qa_pairs: Sequence[dict]) -> float:
    """ALCE's retrieval recall for one question, in [0, 1].

    The fraction of ``qa_pairs`` with some normalised alias in ``short_answers`` that is a
    substring of the normalised concatenation (joined by spaces) of ``passages``. No passages give
    0.0. A question without qa_pairs raises ``ValueError`` (the mean would be undefined).
    """
    if not qa_pairs:
        raise RagError("em_recall needs at least one qa_pair (ASQA items always have some)")
    context = normalize_answer(" ".join(passages))
    if not context:
        return 0.0
    hits = 0
    for pair in qa_pairs:
        aliases = pair.get("short_answers") or []
        if any(normalize_answer(a) in context for a in aliases):
            hits += 1
    return hits / len(qa_pairs)


@dataclass(frozen=True)
class ConfigResult:
    """One retrieval configuration's scores: recall in percent (100 x mean over questions)."""

    name: str
    config: RetrievalConfig
    recall: dict[int, float]
    latency_ms: float | None
    per_question: dict[str, tuple[float, ...]] = field(repr=False, default_factory=dict)

    def subset(self, ids: set[str]) -> ConfigResult:
        """The same result restricted to the questions whose id is in ``ids``."""
        pq = {q: v for q, v in self.per_question.items() if q in ids}
        ks = sorted(self.recall)
        recall = {k: _mean_pct([v[i] for v in pq.values()]) for i, k in enumerate(ks)}
        return ConfigResult(self.name, self.config, recall, self.latency_ms, pq)


@dataclass(frozen=True)
class RetrievalReport:
    """Recall@k per configuration over a set of questions."""

    ks: tuple[int, ...]
    n_questions: int
    results: tuple[ConfigResult, ...]

    def subset(self, ids: set[str]) -> RetrievalReport:
        """The report restricted to the question ids in ``ids`` (latency is kept as measured)."""
        results = tuple(r.subset(ids) for r in self.results)
        n = len(results[0].per_question) if results else 0
        return RetrievalReport(self.ks, n, results)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (without per-question values)."""
        return {
            "ks": list(self.ks),
            "n_questions": self.n_questions,
            "results": [
                {
                    "name": r.name,
                    "config": r.config.to_dict(),
                    "recall": {str(k): round(v, 2) for k, v in r.recall.items()},
                    "mean_latency_ms": None if r.latency_ms is None else round(r.latency_ms, 2),
                }
                for r in self.results
            ],
        }

    def to_markdown(self, title: str = "") -> str:
        """A markdown table: one row per configuration, recall@k columns and latency."""
        head = "| retriever | " + " | ".join(f"R@{k}" for k in self.ks) + " | ms/query |"
        sep = "|---|" + "---:|" * (len(self.ks) + 1)
        lines = [f"**{title}** ({self.n_questions} questions)", ""] if title else []
        lines += [head, sep]
        for r in self.results:
            lat = "" if r.latency_ms is None else f"{r.latency_ms:.1f}"
            lines.append(f"| {r.name} | " + " | ".join(f"{r.recall[k]:.1f}" for k in self.ks) + f" | {lat} |")
        return "\n".join(lines)


def _mean_pct(values: Sequence[float]) -> float:
    return 100.0 * sum(values) / len(values) if values else 0.0


def _check_inputs(questions: Sequence[dict], ks: Sequence[int]) -> tuple[int, ...]:
    if not questions:
        raise RagError("no questions to evaluate: pass a non-empty ASQA list")
    if not ks or any(k < 1 for k in ks):
        raise RagError(f"ks must be positive integers, got {list(ks)}")
    for q in questions:
        if "question" not in q or "qa_pairs" not in q:
            raise RagError("each question needs 'question' and 'qa_pairs' (ASQA dev format)")
    return tuple(sorted(set(int(k) for k in ks)))


def _question_id(q: dict, i: int) -> str:
    return str(q.get("id", q.get("sample_id", i)))


def recall_at_ks(texts: Sequence[str], qa_pairs: Sequence[dict], ks: Sequence[int]) -> tuple[float, ...]:
    """em_recall of the first k texts for each k (texts best first)."""
    return tuple(em_recall(texts[:k], qa_pairs) for k in ks)


class _NormCache:
    """Normalised passage texts by passage id, and the fast prefix recall built on them.

    ``normalize_answer(" ".join(ts)) == " ".join(normalize_answer(t) for t in ts if it is not
    empty)``: every step is per character or per word and the joining space is a word boundary,
    so each passage is normalised once instead of once per question and k (checked in tests).
    """

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def recall(self, passages: Sequence[Any], qa_pairs: Sequence[dict], ks: Sequence[int]) -> tuple[float, ...]:
        if not qa_pairs:
            raise RagError("em_recall needs at least one qa_pair (ASQA items always have some)")
        normed = []
        for p in passages:
            t = self._texts.get(p.id)
            if t is None:
                t = self._texts[p.id] = normalize_answer(p.text)
            normed.append(t)
        aliases = [[normalize_answer(a) for a in (q.get("short_answers") or [])] for q in qa_pairs]
        out = []
        for k in ks:
            context = " ".join(t for t in normed[:k] if t)
            if not context:
                out.append(0.0)
                continue
            hits = sum(1 for al in aliases if any(a in context for a in al))
            out.append(hits / len(qa_pairs))
        return tuple(out)


def evaluate_retrieval(
    index: Index,
    questions: Sequence[dict],
    configs: dict[str, RetrievalConfig],
    ks: Sequence[int] = DEFAULT_KS,
) -> RetrievalReport:
    """Recall@k and mean per-query search latency of each configuration.

    Every question is searched once per configuration, one query at a time (latency = wall time of
    ``Retriever.retrieve`` including the query embedding, averaged), at depth ``max(ks)``; recall@k
    uses the first k passages. ``questions`` are ASQA dev items (``question``, ``qa_pairs``,
    ``id``). Raises ``ValueError`` on empty questions or bad ks.
    """
    kk = _check_inputs(questions, ks)
    kmax = max(kk)
    if not configs:
        raise RagError("no retrieval configurations given")
    results: list[ConfigResult] = []
    cache = _NormCache()
    for name, cfg in configs.items():
        retriever = Retriever(index, cfg)
        retriever.retrieve(questions[0]["question"], kmax)  # warm-up: loads the embedder
        per_q: dict[str, tuple[float, ...]] = {}
        elapsed = 0.0
        for i, q in enumerate(questions):
            t0 = time.perf_counter()
            hits = retriever.retrieve(q["question"], kmax)
            elapsed += time.perf_counter() - t0
            per_q[_question_id(q, i)] = cache.recall([h.passage for h in hits], q["qa_pairs"], kk)
        recall = {k: _mean_pct([v[j] for v in per_q.values()]) for j, k in enumerate(kk)}
        latency = 1000.0 * elapsed / len(questions)
        logger.info("%s: R@5=%.1f, %.1f ms/query", name, recall.get(5, float("nan")), latency)
        results.append(ConfigResult(name, cfg, recall, latency, per_q))
    return RetrievalReport(kk, len(questions), tuple(results))


def sweep_fusion(
    index: Index,
    questions: Sequence[dict],
    configs: dict[str, RetrievalConfig],
    ks: Sequence[int] = DEFAULT_KS,
) -> RetrievalReport:
    """Recall@k of many hybrid configurations from ONE pair of candidate searches (no latency).

    BM25 and dense candidates are fetched once, batched, at the largest depth any config asks
    for; each config then fuses its own prefix of them. Used to choose ``RetrievalConfig``'s
    defaults; gives the same rankings as :func:`evaluate_retrieval` for the same configs.
    """
    kk = _check_inputs(questions, ks)
    kmax = max(kk)
    depth_b = max([c.bm25_depth for c in configs.values()] + [kmax])
    depth_d = max([c.dense_depth for c in configs.values()] + [kmax])
    probe = Retriever(index, RetrievalConfig(bm25_depth=depth_b, dense_depth=depth_d))
    texts = [q["question"] for q in questions]
    bm25_all, dense_all = probe.candidates(texts, kmax)
    assert bm25_all is not None and dense_all is not None
    results: list[ConfigResult] = []
    cache = _NormCache()
    for name, cfg in configs.items():
        r = Retriever(index, cfg)
        db, dd = max(cfg.bm25_depth, kmax), max(cfg.dense_depth, kmax)
        per_q: dict[str, tuple[float, ...]] = {}
        for i, q in enumerate(questions):
            b = bm25_all[i][:db] if cfg.mode != "dense" and cfg.weights[0] > 0 else None
            d = dense_all[i][:dd] if cfg.mode != "bm25" and cfg.weights[1] > 0 else None
            hits = r.fuse(b, d, kmax)
            per_q[_question_id(q, i)] = cache.recall([h.passage for h in hits], q["qa_pairs"], kk)
        recall = {k: _mean_pct([v[j] for v in per_q.values()]) for j, k in enumerate(kk)}
        results.append(ConfigResult(name, cfg, recall, None, per_q))
    return RetrievalReport(kk, len(questions), tuple(results))


def default_configs(hybrid: RetrievalConfig | None = None) -> dict[str, RetrievalConfig]:
    """BM25 alone, dense alone and a hybrid (``RetrievalConfig()``'s defaults unless given)."""
    return {
        "bm25": RetrievalConfig(mode="bm25"),
        "dense": RetrievalConfig(mode="dense"),
        "hybrid" if hybrid is not None else "hybrid (default)": hybrid or RetrievalConfig(),
    }


def parse_config(text: str) -> RetrievalConfig:
    """A ``RetrievalConfig`` from a JSON object of its fields (e.g. ``{"rrf_k": 10}``)."""
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as e:
        raise RagError(f"--hybrid must be a JSON object of RetrievalConfig fields: {e}") from e
    if not isinstance(fields, dict):
        raise RagError("--hybrid must be a JSON object, e.g. '{\"rrf_k\": 10}'")
    try:
        return RetrievalConfig(**fields)
    except TypeError as e:
        raise RagError(f"--hybrid: {e}") from e


def load_questions(path: str | Path) -> list[dict]:
    """ASQA dev items from a JSON list file."""
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"ASQA file not found: {p} (pass --data <asqa_dev.json>)")
    data = read_json(p, "ASQA file")
    if isinstance(data, dict):  # ASQA's original {"dev": {id: item}} layout
        data = [dict(v, id=k) for k, v in data.get("dev", data).items()]
    if not isinstance(data, list):
        raise RagError(f"{p}: expected a JSON list of ASQA items")
    return data


def load_ids(path: str | Path) -> set[str]:
    """Question ids, one a line."""
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"id list not found: {p} (pass --subset <ids.txt>)")
    return {line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()}


def run(
    index_path: str | Path,
    data: str | Path,
    out_dir: str | Path,
    subset: str | Path | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    subset_only: bool = False,
    command: str = "",
    hybrid: RetrievalConfig | None = None,
) -> dict[str, Any]:
    """Evaluate BM25, dense and the default hybrid on an index; write JSON and markdown.

    Writes ``<out_dir>/<index name>.json`` and ``.md`` and returns the JSON object.
    ``subset_only`` evaluates only the subset's questions (for the corpus without snippets).
    """
    questions = load_questions(data)
    ids = load_ids(subset) if subset else None
    if ids is not None and subset_only:
        questions = [q for i, q in enumerate(questions) if _question_id(q, i) in ids]
    index = load_index(index_path)
    report = evaluate_retrieval(index, questions, default_configs(hybrid), ks)
    name = Path(index_path).name
    out: dict[str, Any] = {
        "command": command,
        "index": str(index_path),
        "passages": len(index.passages),
        "data": str(data),
        "all": report.to_dict(),
    }
    md = [f"# Retrieval recall on ASQA dev, index `{name}` ({len(index.passages)} passages)", ""]
    md += ["ALCE retrieval recall (EM recall of the top-k passages, x100).", ""]
    md += [report.to_markdown("all questions given"), ""]
    if ids is not None:
        assert subset is not None  # ids are only loaded from a subset file
        sub = report.subset(ids)
        out["subset"] = {"file": str(subset), **sub.to_dict()}
        md += [sub.to_markdown(f"subset {Path(subset).name}"), ""]
    md += ["Command:", "", f"    {command}", ""]
    od = Path(out_dir)
    od.mkdir(parents=True, exist_ok=True)
    (od / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    (od / f"{name}.md").write_text("\n".join(md), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m rag.evaluation.retrieval --index DIR [--data F] --out DIR``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True, help="index directory (built from the ASQA corpus)")
    ap.add_argument("--data", default=None, help="ASQA dev JSON (default: asqa/asqa_dev.json in $RAG_SHARED_DATA)")
    ap.add_argument("--subset", default=None, help="ids to report apart (default: asqa/pooled300_ids.txt there)")
    ap.add_argument("--subset-only", action="store_true", help="evaluate only the subset")
    ap.add_argument("--ks", default="1,3,5,10,20", help="comma-separated k values")
    ap.add_argument("--out", default="results/retrieval", help="output directory")
    ap.add_argument("--hybrid", default=None, help="JSON of RetrievalConfig fields for the hybrid row")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    command = "python -m rag.evaluation.retrieval " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    try:
        data = args.data or str(benchmark_data_dir() / "asqa" / "asqa_dev.json")
        subset = args.subset if (args.subset or args.data) else str(benchmark_data_dir() / "asqa" / "pooled300_ids.txt")
        ks = [int(x) for x in args.ks.split(",") if x.strip()]
        hybrid = parse_config(args.hybrid) if args.hybrid else None
        out = run(args.index, data, args.out, subset or None, ks, args.subset_only, command, hybrid)
    except (ValueError, FileNotFoundError, RagError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps({k: out[k] for k in ("all", "subset") if k in out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
