"""The citing ablation table: one row per (run, generator) from scored runs' summary.json.

    python experiments/citation-ablation/ablation_table.py headline-plain headline-best ... > table.md

Each run directory is under results/ (or a path). The levers of a row are read from the run's
config.json; the metrics from its summary.json (the judge named in the header must be the same for
every run, else the script stops).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.judges import same_judge

COLUMNS = (
    ("str_em", "str_em"),
    ("str_hit", "str_hit"),
    ("citation_rec", "cit rec"),
    ("citation_prec", "cit prec"),
    ("faithfulness", "faithful"),
    ("length", "words"),
)


def levers(run: dict) -> str:
    parts = [f"prompt {run.get('prompt', 'default')}"]
    parts.append("grammar" if run.get("constrain_citations", True) and run.get("prompt") != "alce" else "no grammar")
    if run.get("cite", "model") == "posthoc":
        parts.append("post-hoc citations")
    if run.get("samples", 1) > 1:
        parts.append(f"best of {run['samples']}")
    if run.get("hide_unsupported"):
        parts.append("hide unsupported")
    if run.get("quote_fallback"):
        parts.append("quote fallback")
    if run.get("cite") == "posthoc" or run.get("samples", 1) > 1 or run.get("hide_unsupported"):
        attribution = run.get("attribution_judge", "llm:qwen2.5-0.5b")
        parts.append(f"attribution judge {attribution}")
        if same_judge(attribution, run.get("judge", "llm")):
            parts.append("**SELF-GRADED**")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--results-dir", type=Path, default=Path("results"))
    args = ap.parse_args(argv)
    judges = set()
    rows = []
    for name in args.runs:
        d = Path(name) if Path(name).is_dir() else args.results_dir / name
        config = json.loads((d / "config.json").read_text())
        summary = json.loads((d / "summary.json").read_text())
        judges.add(summary["judge"]["name"])
        for s in summary["systems"].values():
            if s.get("kind") != "rag":
                continue
            m = s["metrics"]
            cells = [f"{m[k]:.1f}" if m.get(k) is not None else "–" for k, _ in COLUMNS]
            empty = s.get("empty_answers", 0)
            n = s["n_questions"]
            # ALCE skips empty answers in the citation metrics; counted as 0 here as well, for honesty
            rec_all = m["citation_rec"] * (n - empty) / n if m.get("citation_rec") is not None else None
            rows.append(
                [
                    d.name,
                    s["generator"],
                    levers({**config["run"], **config["run"].get("pipeline", {})}),  # both layouts
                    str(n),
                    *cells,
                    str(empty),
                    "–" if rec_all is None else f"{rec_all:.1f}",
                    f"{s['seconds_per_question']:.1f}",
                ]
            )
    if len(judges) != 1:
        print(f"runs were scored by different judges: {sorted(judges)}", file=sys.stderr)
        return 1
    head = ["run", "generator", "levers", "n", *(label for _, label in COLUMNS), "empty", "cit rec, empty=0", "s/q"]
    print(f"Judge: `{judges.pop()}`\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in sorted(rows, key=lambda r: (r[1], args.runs.index(r[0]) if r[0] in args.runs else 0)):
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
