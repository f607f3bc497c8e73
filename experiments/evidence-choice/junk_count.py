"""Count the junk the evidence rules are meant to keep out of answers, in finished runs: quoted
sentences cut at a passage's start (``cut_at_start``) or fragments (``is_fragment``), a sentence
that retells an earlier one of the same answer, an answer opening on a pronoun.

    python experiments/evidence-choice/junk_count.py answers-asqa answers-poolonly

A count over the answers as they were made; nothing is chosen by it. No model runs.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from rag.evidence import candidate_evidence, cut_at_start, is_fragment, leans_back, without_footnotes
from rag.finish import retells
from rag.text import content_words
from rag.types import Passage

# "… text [1][2]." ends a statement the pipeline rendered (``rag.citing.attribution.render``): the
# markers go before the closing punctuation. Split there, not with punkt (``parse_answer``), which
# would cut a quoted "… hit No. 1 …" in two and count a fragment the answer does not have.
_STATEMENT_RE = re.compile(r"(.+?)\s*((?:\[\d+\])+)([.!?]?)(?:\s+|$)")


def statements(output: str) -> list[str]:
    """The answer's sentences, citation markers removed (closing punctuation kept)."""
    return [(m.group(1) + m.group(3)).strip() for m in _STATEMENT_RE.finditer(output)]


def count(run: Path) -> dict[str, int]:
    out = {"answers": 0, "cut at start": 0, "fragment": 0, "retold": 0, "opens on a pronoun": 0}
    for line in (run / "outputs.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec.get("kind") != "rag" or not rec["output"]:
            continue
        out["answers"] += 1
        passages = [Passage(id=p["id"], title=p["title"], text=p["text"]) for p in rec["passages"]]
        firsts = {}
        for c in candidate_evidence(passages, 1):
            p = passages[c.passage - 1]
            if not p.text[: c.start].strip():
                firsts[without_footnotes(c.text)] = cut_at_start(c, p)
        sents = statements(rec["output"])
        out["cut at start"] += sum(bool(firsts.get(s)) for s in sents)
        out["fragment"] += sum(is_fragment(s) for s in sents)
        bags = [content_words(s) for s in sents]
        out["retold"] += sum(any(retells(b, e) for e in bags[:i]) for i, b in enumerate(bags))
        out["opens on a pronoun"] += int(bool(sents) and leans_back(sents[0]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--results-dir", type=Path, default=Path("results"))
    args = ap.parse_args()
    rows = {name: count(args.results_dir / name) for name in args.runs}
    keys = list(next(iter(rows.values())))
    print("| run | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, c in rows.items():
        print(f"| `{name}` | " + " | ".join(str(c[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
