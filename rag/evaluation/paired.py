"""Paired comparison of two runs on the same questions: is a difference more than noise?

Two systems answered the same questions; per metric, the per-question differences (B − A) are
averaged and a percentile bootstrap over questions gives a confidence interval for that mean.
Questions where either side has no value (e.g. citation metrics of an empty answer) are left out
of that metric. Values are per-question scores in [0, 1]; results are reported ×100, like the
reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.files import iter_jsonl

#: The per-question metrics compared by default (the keys of a scores file's rows).
PAIRED_METRICS = ("str_em", "str_hit", "rougeLsum", "citation_recall", "citation_precision", "faithfulness")


@dataclass(frozen=True)
class PairedDiff:
    """B − A on one metric over ``n`` shared questions, ×100: the means, their difference, a
    ``level`` bootstrap confidence interval for it, and how many questions B won, lost, tied."""

    metric: str
    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci_low: float
    ci_high: float
    level: float
    wins: int
    losses: int
    ties: int


def paired_diff(
    a: Sequence[float],
    b: Sequence[float],
    metric: str = "",
    *,
    samples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> PairedDiff:
    """Compare paired per-question values ``a[i]`` and ``b[i]`` (same question ``i``)."""
    import numpy as np

    if len(a) != len(b):
        raise RagError(f"paired values differ in length: {len(a)} and {len(b)}")
    if not a:
        raise RagError(f"no shared questions with a value for {metric or 'the metric'}")
    if not 0 < level < 1:
        raise RagError(f"level must be between 0 and 1, got {level}")
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    d = xb - xa
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(samples, len(d)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    eps = 1e-12
    return PairedDiff(
        metric=metric,
        n=len(d),
        mean_a=100 * float(xa.mean()),
        mean_b=100 * float(xb.mean()),
        diff=100 * float(d.mean()),
        ci_low=100 * float(low),
        ci_high=100 * float(high),
        level=level,
        wins=int((d > eps).sum()),
        losses=int((d < -eps).sum()),
        ties=int((abs(d) <= eps).sum()),
    )


def read_scores(path: str | Path, system: str | None = None) -> dict[str, dict[str, Any]]:
    """A scores file's rows by question id, for one ``system`` (needed when the file has several)."""
    rows: dict[str, dict[str, Any]] = {}
    systems: set[str] = set()
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"no scores file {p}: score the run first (`rag eval ... --resume --score`)")
    for _, row in iter_jsonl(p):
        systems.add(row["system"])
        if system is None or row["system"] == system:
            rows[row["id"]] = row
    if system is None and len(systems) > 1:
        raise RagError(f"{p} scores several systems ({', '.join(sorted(systems))}); name one")
    if system is not None and system not in systems:
        raise RagError(f"{p} has no scores for system {system!r} (it has {', '.join(sorted(systems))})")
    return rows


def compare(
    a: Mapping[str, Mapping[str, Any]],
    b: Mapping[str, Mapping[str, Any]],
    metrics: Sequence[str] = PAIRED_METRICS,
    **kwargs: Any,
) -> list[PairedDiff]:
    """Paired differences B − A for each metric over the questions both sides scored."""
    shared = [q for q in a if q in b]
    out = []
    for metric in metrics:
        pairs = [(a[q].get(metric), b[q].get(metric)) for q in shared]
        kept = [(x, y) for x, y in pairs if x is not None and y is not None]
        if kept:
            out.append(paired_diff([x for x, _ in kept], [y for _, y in kept], metric, **kwargs))
    return out


def diff_markdown(diffs: Sequence[PairedDiff], name_a: str, name_b: str) -> str:
    """A markdown table of paired differences."""
    if not diffs:
        return "(no shared questions)\n"
    pct = round(diffs[0].level * 100)
    lines = [
        f"| metric | n | {name_a} | {name_b} | B − A | {pct}% CI | B better / worse / same |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in diffs:
        lines.append(
            f"| {d.metric} | {d.n} | {d.mean_a:.1f} | {d.mean_b:.1f} | {d.diff:+.1f} | "
            f"[{d.ci_low:+.1f}, {d.ci_high:+.1f}] | {d.wins} / {d.losses} / {d.ties} |"
        )
    return "\n".join(lines) + "\n"
