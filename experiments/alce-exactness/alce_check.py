"""Re-check rag's ALCE-exact metrics against ALCE's own eval.py, on an ALCE-format output file.

ALCE (princeton-nlp/ALCE) is not part of this repository: clone it where you have internet
(``git clone https://github.com/princeton-nlp/ALCE``) and pass the folder with ``--alce-dir``.
Its ``eval.py`` is imported as is; only the TRUE model call (``_run_nli_autoais``) is replaced by
the judge chosen here, and both implementations ask that same judge, so any difference is a
difference in the metric code, not in the judge.

    python experiments/alce-exactness/alce_check.py --alce-dir ../ALCE --file result/asqa-run.json [--judge scripted]

The file is ALCE's output format: ``{"data": [{"question", "output", "docs", "qa_pairs",
"annotations" or "answer"}, ...]}``. ALCE's ``main()`` pre-processing is reproduced (strip, cut
at the first newline, drop ``<|im_end|>``, ``remove_citations`` for the non-citation metrics),
then each metric is computed by ALCE's function per question (a one-item list) and over the whole
file, beside ``rag.evaluation.metrics.score_question`` / ``aggregate``. The ROUGE-Lsum bootstrap is
compared with numpy seeded identically on both sides. Exit status 0 when everything is identical
(to 1e-9), 1 otherwise. ALCE's sentence splitter (nltk) reads punkt_tab from ``$NLTK_DATA``, else
from ``nltk_data/`` in the benchmark data (``--data-dir``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import io
import json
import logging
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TOL = 1e-9
ROOT = Path(__file__).resolve().parents[2]


class ScriptedJudge:
    """Deterministic stand-in: entails iff every word of the hypothesis occurs in the premise."""

    name = "scripted-words"

    def __init__(self) -> None:
        self.n_calls = 0

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        self.n_calls += len(pairs)

        def words(s: str) -> set[str]:
            return set(re.findall(r"\w+", s.lower()))

        return [words(h) <= words(p) for p, h in pairs]


def _module_from(path: Path, name: str) -> Any:
    """Execute the Python file ``path`` as module ``name`` (not registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_alce(alce_dir: Path) -> Any:
    """Import ALCE's eval.py from ``alce_dir`` (its own modules loaded from the clone; stubbing
    only modules that cannot be installed)."""
    path = alce_dir / "eval.py"
    if not path.is_file():
        raise FileNotFoundError(f"no eval.py in {alce_dir}: pass --alce-dir the folder of a princeton-nlp/ALCE clone")
    for _ in range(5):
        try:
            return _module_from(path, "alce_eval")
        except ModuleNotFoundError as err:
            local = alce_dir / f"{err.name}.py"
            if err.name and local.is_file():  # one of ALCE's own modules, beside eval.py
                sys.modules[err.name] = _module_from(local, err.name)
                continue
            if err.name in {"mauve"}:  # optional metric, never called here
                logging.warning("stubbing module %s for ALCE's eval.py", err.name)
                sys.modules[err.name] = type(sys)(err.name)
                continue
            raise
    raise RuntimeError("could not import ALCE's eval.py")


def _alce_quiet(alce: Any, judge: Any) -> None:
    """Replace ALCE's TRUE call by ``judge`` and silence its per-sentence logging and bars."""
    alce.autoais_model = object()  # anything non-None: ALCE then skips loading TRUE
    alce.autoais_tokenizer = object()
    alce._run_nli_autoais = lambda passage, claim: int(judge.entails_batch([(passage, claim)])[0])
    alce.tqdm = lambda x, **_: x
    alce.logger.setLevel(logging.WARNING)


def _alce_prepare(items: list[dict], alce: Any) -> tuple[list[dict], list[dict]]:
    """ALCE main()'s pre-processing: (data for AutoAIS, normalized data for the rest)."""
    data = copy.deepcopy(items)
    for item in data:
        item["output"] = item["output"].strip().split("\n")[0]
        item["output"] = item["output"].replace("<|im_end|>", "")
    normalized = copy.deepcopy(data)
    for item in normalized:
        item["output"] = alce.remove_citations(item["output"])
    return data, normalized


def _alce_scores(alce: Any, data: list[dict], normalized: list[dict], at_most: int, seed: int) -> dict[str, float]:
    import numpy as np

    out: dict[str, float] = {"length": float(alce.compute_len(normalized))}
    em, hit = alce.compute_str_em(normalized)
    out["str_em"], out["str_hit"] = float(em), float(hit)
    np.random.seed(seed)
    out["rougeLsum_bootstrap"] = float(alce.compute_rouge(normalized))
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cit = alce.compute_autoais(data, citation=True, at_most_citations=at_most)
    out["citation_rec"], out["citation_prec"] = float(cit["citation_rec"]), float(cit["citation_prec"])
    return out


def _same(a: float | None, b: float | None) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or math.isnan(b):
        return False
    return abs(a - b) <= TOL


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; print both sides; return 0 if identical."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alce-dir", type=Path, required=True, help="folder of a princeton-nlp/ALCE clone")
    ap.add_argument("--file", type=Path, required=True, help="ALCE-format output JSON ({'data': [...]})")
    ap.add_argument("--judge", default="scripted", help="'scripted' (deterministic word judge) or a rag judge name")
    ap.add_argument("--at-most-citations", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0, help="seed of the ROUGE bootstrap, both sides")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("RAG_SHARED_DATA") or ROOT.parent / "shared" / "data"),
        help="the benchmark data, holding nltk_data/ (default: $RAG_SHARED_DATA, else ../shared/data beside the "
        "repository); read only when $NLTK_DATA is not set",
    )
    args = ap.parse_args(argv)

    # ALCE calls nltk.sent_tokenize, which searches NLTK_DATA; point it at the same punkt_tab.
    if not os.environ.get("NLTK_DATA"):
        nltk_data = args.data_dir / "nltk_data"
        if not nltk_data.is_dir():
            sys.exit(f"no nltk_data/ in {args.data_dir}: pass --data-dir, set RAG_SHARED_DATA or set NLTK_DATA")
        os.environ["NLTK_DATA"] = str(nltk_data)
    from rag.evaluation.metrics import aggregate, score_question

    if not args.file.is_file():
        raise FileNotFoundError(f"no such output file: {args.file}")
    items = json.loads(args.file.read_text(encoding="utf-8"))["data"]
    if args.judge == "scripted":
        judge: Any = ScriptedJudge()
    else:
        from rag.judges import load_judge

        judge = load_judge(args.judge)
    alce = _load_alce(args.alce_dir)
    _alce_quiet(alce, judge)
    data, normalized = _alce_prepare(items, alce)

    ours = [
        score_question(
            item,
            item["output"],
            item.get("docs") or [],
            judge,
            alce_exact=True,
            at_most_citations=args.at_most_citations,
        )
        for item in items
    ]
    ours_agg = aggregate(ours, bootstrap_seed=args.seed)

    # Per question: ALCE's functions on one-item lists.
    diffs: list[str] = []
    fields = [("length", "length", 1), ("str_em", "str_em", 100), ("str_hit", "str_hit", 100),
              ("rougeLsum", "rougeLsum_bootstrap", 100), ("citation_recall", "citation_rec", 100),
              ("citation_precision", "citation_prec", 100)]  # fmt: skip
    alce_rouge_each: list[float] = []
    for i, q in enumerate(ours):
        a = _alce_scores(alce, data[i : i + 1], normalized[i : i + 1], args.at_most_citations, args.seed)
        alce_rouge_each.append(a["rougeLsum_bootstrap"] / 100)
        for our_key, alce_key, scale in fields:
            mine = getattr(q, our_key)
            mine = None if mine is None else mine * scale
            if not _same(mine, a[alce_key]):
                diffs.append(f"question {i} ({q.id}) {our_key}: rag {mine} vs ALCE {a[alce_key]}")

    whole = _alce_scores(alce, data, normalized, args.at_most_citations, args.seed)
    whole["rougeLsum"] = 100 * sum(alce_rouge_each) / len(alce_rouge_each)
    print(
        f"file: {args.file} ({len(items)} questions), judge: {judge.name}, at_most_citations={args.at_most_citations}"
    )
    print(f"{'metric':<22}{'rag':>14}{'ALCE':>14}  ")
    for key in (
        "length",
        "str_em",
        "str_hit",
        "rougeLsum",
        "rougeLsum_bootstrap",
        "citation_rec",
        "citation_prec",
    ):
        mine = ours_agg.get(key)
        theirs = whole[key]
        ok = _same(mine, theirs)
        if not ok:
            diffs.append(f"aggregate {key}: rag {mine} vs ALCE {theirs}")
        shown = "n/a" if mine is None else f"{mine:.6f}"
        print(f"{key:<22}{shown:>14}{theirs:>14.6f}  {'same' if ok else 'DIFFERENT'}")
    if diffs:
        print(f"DIFFERENCES ({len(diffs)}):")
        for d in diffs:
            print("  " + d)
        return 1
    print("identical: every per-question and aggregate metric matches ALCE's eval.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
