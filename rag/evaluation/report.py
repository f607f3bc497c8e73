"""Reports of benchmark runs: ``summary.json``, ``summary.md`` (a markdown table) and ``chart.png``.

A summary holds, per system, every aggregated metric, the number of questions, seconds per
question and the generator's size, plus the judge (and whether it is ALCE-official), the corpus
and ``k``. :func:`report_runs` puts the systems of several runs side by side.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.files import read_json

logger = logging.getLogger(__name__)

SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
CHART = "chart.png"
# Column order of the table; metrics not listed here follow in name order.
METRIC_ORDER = ("str_em", "str_hit", "rougeLsum", "citation_rec", "citation_prec", "faithfulness", "length")
METRIC_LABELS = {
    "str_em": "EM rec",
    "str_hit": "EM hit",
    "rougeLsum": "ROUGE-Lsum",
    "citation_rec": "cit rec",
    "citation_prec": "cit prec",
    "faithfulness": "faithful",
    "length": "length (words)",
    "rougeLsum_bootstrap": "ROUGE-Lsum (ALCE bootstrap)",
}

# Per-system counts given as a line under the table (when any is non-zero).
_COUNTED = (
    (
        "empty_answers",
        "Empty answers (no statement kept; they count 0 for EM and are skipped by the citation metrics, as ALCE does)",
    ),
    (
        "unanswered",
        "Answers saying the passages do not answer the question (scored as empty answers, and "
        "counted among them above)",
    ),
    (
        "quoted_fallbacks",
        "Answers that quote the passages because no generated statement was supported (quote fallback)",
    ),
)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fmt(v: Any, digits: int = 1) -> str:
    return f"{v:.{digits}f}" if _is_num(v) else "–"


def _size(n: Any) -> str:
    if not _is_num(n):
        return "–"
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


def metric_columns(systems: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The metric names present in any system, in :data:`METRIC_ORDER` then name order."""
    present: set[str] = set()
    for s in systems.values():
        present.update(k for k, v in s.get("metrics", {}).items() if _is_num(v) or v is None)
    return [m for m in METRIC_ORDER if m in present] + sorted(present - set(METRIC_ORDER))


def comparability_note(judge: Mapping[str, Any], corpus: Mapping[str, Any] | None) -> str:
    """The line saying what is not comparable with ALCE's published numbers."""
    parts: list[str] = []
    corpus = corpus or {}
    if corpus.get("kind") == "docs-from-file":
        parts.append("passages are the data file's own docs (ALCE's GTR top-k when it is ALCE's file)")
    else:
        n = next(
            (corpus[k] for k in ("passage_count", "n_passages", "num_passages") if _is_num(corpus.get(k))),
            None,
        )
        size = f"{int(n):,} passages" if n else "about 10.5k passages (ASQA corpus.jsonl)"
        parts.append(f"our corpus is {size} vs ALCE's 21M-passage Wikipedia")
    if judge.get("name") == "none":
        parts.append("no judge was used, so citation metrics and faithfulness were not computed")
    elif not judge.get("official"):
        parts.append(
            f"our judge is {judge.get('name', '?')}, not TRUE-11B "
            "(citation and faithfulness scores are not ALCE-official)"
        )
    return "Not comparable with ALCE's published numbers: " + "; ".join(parts) + "."


def build_summary(
    *,
    run: str,
    systems: Mapping[str, Mapping[str, Any]],
    judge: Mapping[str, Any],
    corpus: Mapping[str, Any] | None,
    k: int | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A summary dict. ``systems[name]`` holds ``metrics`` (dict), ``n_questions``,
    ``seconds_per_question``, ``kind``, ``generator``, ``params``, ``file_size``."""
    return {
        "run": run,
        "judge": {"name": judge.get("name"), "official": bool(judge.get("official"))},
        "corpus": dict(corpus or {}),
        "k": k,
        "systems": {name: dict(s) for name, s in systems.items()},
        "note": comparability_note(judge, corpus),
        **dict(extra or {}),
    }


def summary_markdown(summary: Mapping[str, Any]) -> str:
    """The markdown report: one row per system, the judge named, the comparability note."""
    systems = summary.get("systems", {})
    cols = metric_columns(systems)
    judge = summary.get("judge", {})
    official = "ALCE-official" if judge.get("official") else "not ALCE-official"
    head = ["system", "model", "params", "file", "n", *(METRIC_LABELS.get(c, c) for c in cols), "s/question"]
    lines = [
        f"# {summary.get('run', 'run')}",
        "",
        f"Judge: `{judge.get('name')}` ({official}). k = {summary.get('k')}. "
        f"Corpus: {_corpus_text(summary.get('corpus', {}))}.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for name, s in systems.items():
        m = s.get("metrics", {})
        row = [
            name,
            str(s.get("generator", "")),
            str(s.get("params") or "–"),
            _size(s.get("file_size")),
            str(s.get("n_questions", "–")),
            *(_fmt(m.get(c)) for c in cols),
            _fmt(s.get("seconds_per_question")),
        ]
        lines.append("| " + " | ".join(row) + " |")
    citing = summary.get("citing")
    if citing:
        lines += ["", "Citing: " + ", ".join(f"{k}={v}" for k, v in citing.items() if v is not None) + "."]
    for key, label in _COUNTED:
        counts = {n: s.get(key) for n, s in systems.items() if s.get(key)}
        if counts:
            lines += ["", label + ": " + ", ".join(f"{n} {c}" for n, c in counts.items()) + "."]
    if summary.get("self_graded"):
        lines += [
            "",
            "**SELF-GRADED: the citations or samples were chosen by the judge that scores them; these "
            "citation scores are not a fair measurement.**",
        ]
    lines += [
        "",
        "Closed-book systems get no passages: citation metrics and faithfulness do not apply (–).",
        "",
        summary.get("note") or comparability_note(judge, summary.get("corpus")),
    ]
    if summary.get("command"):
        lines += ["", f"Command: `{summary['command']}`"]
    return "\n".join(lines) + "\n"


def _corpus_text(corpus: Mapping[str, Any]) -> str:
    if corpus.get("kind") == "docs-from-file":
        return f"docs from {Path(str(corpus.get('data', '?'))).name}"
    if corpus.get("kind") == "mixed":
        return "several (see each run)"
    n = next((corpus[k] for k in ("passage_count", "n_passages", "num_passages") if _is_num(corpus.get(k))), None)
    return f"index `{corpus.get('index')}`" + (f" ({int(n):,} passages)" if n else "")


def draw_chart(summary: Mapping[str, Any], path: str | Path) -> Path:
    """A grouped bar chart: one group per metric, one bar per system (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = summary.get("systems", {})
    names = list(systems)
    pct = [c for c in metric_columns(systems) if c != "length"]
    side = [("length", "length (words)"), ("seconds_per_question", "s / question")]
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(max(8.0, 1.3 * len(pct) + 5), 4.8), gridspec_kw={"width_ratios": [max(len(pct), 1), 2]}
    )
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        m = systems[name].get("metrics", {})
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(pct))]
        ax.bar(xs, [m.get(c) if _is_num(m.get(c)) else 0.0 for c in pct], width, label=name)
        vals = [m.get("length"), systems[name].get("seconds_per_question")]
        xs2 = [j + (i - (len(names) - 1) / 2) * width for j in range(len(side))]
        ax2.bar(xs2, [v if _is_num(v) else 0.0 for v in vals], width)
    ax.set_xticks(range(len(pct)), [METRIC_LABELS.get(c, c) for c in pct], rotation=20)
    ax.set_ylim(0, 100)
    ax.set_ylabel("score (0-100)")
    judge = summary.get("judge", {})
    ax.set_title(f"{summary.get('run', '')} - judge {judge.get('name')}", fontsize=10)
    ax.legend(fontsize=8)
    ax2.set_xticks(range(len(side)), [label for _, label in side])
    ax2.set_title("length and time", fontsize=10)
    fig.tight_layout()
    p = Path(path)
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p


def write_report(summary: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``summary.json``, ``summary.md`` and ``chart.png`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / SUMMARY_JSON, "md": out / SUMMARY_MD, "chart": out / CHART}
    paths["json"].write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["md"].write_text(summary_markdown(summary), encoding="utf-8")
    draw_chart(summary, paths["chart"])
    return paths


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    """A run's ``summary.json`` (written by ``rag eval`` or ``rag eval score``)."""
    p = Path(run_dir) / SUMMARY_JSON
    if not p.is_file():
        raise MissingFileError(f"{p} not found: score the run first with `rag eval score {run_dir}`")
    return dict(read_json(p, "run summary"))


def report_runs(run_dirs: Sequence[str | Path], out: str | Path) -> dict[str, Path]:
    """One comparison of the systems of several scored runs, written to ``out``.

    Systems are named ``<run>:<system>`` when more than one run is given.
    """
    if not run_dirs:
        raise RagError("give at least one run directory")
    summaries = [read_summary(d) for d in run_dirs]
    if len(summaries) == 1:  # one run: redraw its own report as it is
        return write_report(summaries[0], out)
    many = len(summaries) > 1
    systems: dict[str, Any] = {}
    for d, s in zip(run_dirs, summaries, strict=True):
        run = s.get("run") or Path(d).name
        for name, sys_ in s.get("systems", {}).items():
            label = f"{run}:{name}" if many else name
            systems[label] = dict(sys_) | {"run": run, "judge": s.get("judge", {}).get("name")}
    judges = {json.dumps(s.get("judge", {}), sort_keys=True) for s in summaries}
    corpora = {json.dumps(s.get("corpus", {}), sort_keys=True) for s in summaries}
    ks = {s.get("k") for s in summaries}
    judge = (
        summaries[0].get("judge", {})
        if len(judges) == 1
        else {
            "name": " / ".join(sorted({s.get("judge", {}).get("name") or "?" for s in summaries})),
            "official": all(s.get("judge", {}).get("official") for s in summaries),
        }
    )
    corpus = summaries[0].get("corpus", {}) if len(corpora) == 1 else {"kind": "mixed"}
    summary = build_summary(
        run=" + ".join(str(s.get("run") or Path(d).name) for d, s in zip(run_dirs, summaries, strict=True)),
        systems=systems,
        judge=judge,
        corpus=corpus,
        k=ks.pop() if len(ks) == 1 else None,
        extra={"runs": [str(d) for d in run_dirs]},
    )
    return write_report(summary, out)
