"""Judge calibration: a judge's agreement with human-labelled (premise, hypothesis) pairs.

The labelled set ships in ``tests/data/judge_pairs.jsonl`` (built from ASQA: long-answer sentences
against the knowledge snippets that state them, passages of the same page that do not, and passages
of other questions; every label given by reading). ``candidate_pairs`` builds unlabelled candidates
for people to label. ``python -m rag.evaluation.judge_check --judge llm --pairs PATH`` scores a judge.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.files import iter_jsonl, read_json, slug
from rag.judges import Judge, load_judge
from rag.paths import benchmark_data_dir
from rag.text import words

logger = logging.getLogger(__name__)

DEFAULT_PAIRS = Path("tests/data/judge_pairs.jsonl")
SPLITS = ("all", "dev", "test")
_REQUIRED = ("premise", "hypothesis", "label", "kind", "source")


@dataclass(frozen=True)
class LabelledPair:
    """One labelled pair: does ``premise`` entail ``hypothesis``? ``source`` is
    ``"<question id>/<passage id>"``; ``kind`` how the pair was made (e.g. "positive",
    "negative-same-page", "negative-other-question")."""

    premise: str
    hypothesis: str
    label: bool
    kind: str
    source: str


@dataclass(frozen=True)
class JudgeCheckResult:
    """A judge's scores on labelled pairs ("yes" = entailed is the positive class).

    ``confusion`` has keys ``tp``, ``fp``, ``tn``, ``fn``; precision/recall/F1 are 0 when their
    denominator is 0. ``accuracy_by_kind`` is the accuracy within each pair kind.
    """

    judge: str
    n: int
    accuracy: float
    precision: float
    recall: float
    f1: float
    seconds_per_pair: float
    confusion: dict[str, int]
    accuracy_by_kind: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def premise_text(title: str, text: str) -> str:
    """A passage as the metrics give it to the judge: ``Title: {title}\\n{text}``."""
    return f"Title: {title}\n{text}"


def load_pairs(path: Path) -> list[LabelledPair]:
    """Read labelled pairs from JSONL (fields premise, hypothesis, label, kind, source)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"pairs file {path} not found: pass --pairs with a JSONL of labelled pairs")
    pairs: list[LabelledPair] = []
    for n, rec in iter_jsonl(path):
        if not isinstance(rec, dict):
            raise RagError(f"{path}:{n}: expected a JSON object with fields {', '.join(_REQUIRED)}")
        missing = [k for k in _REQUIRED if k not in rec]
        if missing:
            raise RagError(f"{path}:{n}: missing field(s) {', '.join(missing)}; each line needs {', '.join(_REQUIRED)}")
        if not isinstance(rec["label"], bool):
            raise RagError(f"{path}:{n}: label must be true or false, got {rec['label']!r}")
        source = rec["source"]
        if isinstance(source, dict):
            source = f"{source.get('question_id', '')}/{source.get('passage_id', '')}"
        pairs.append(
            LabelledPair(str(rec["premise"]), str(rec["hypothesis"]), rec["label"], str(rec["kind"]), str(source))
        )
    if not pairs:
        raise RagError(f"pairs file {path} holds no pairs")
    return pairs


def split_of(pair: LabelledPair) -> str:
    """ "dev" for about a third of the questions (by a hash of the question id), else "test".

    Pairs of one question stay in one split, so prompt wording tuned on dev is scored on unseen
    questions."""
    qid = pair.source.split("/", 1)[0]
    return "dev" if int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 3 == 0 else "test"


def select_split(pairs: Sequence[LabelledPair], split: str) -> list[LabelledPair]:
    """The pairs of one split: "all", "dev" or "test"."""
    if split not in SPLITS:
        raise RagError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    return list(pairs) if split == "all" else [p for p in pairs if split_of(p) == split]


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def judge_check(judge: Judge, pairs: Sequence[LabelledPair]) -> JudgeCheckResult:
    """Run ``judge`` on ``pairs`` and compare its verdicts with the labels."""
    if not pairs:
        raise RagError("judge_check needs at least one labelled pair")
    start = time.perf_counter()
    verdicts = judge.entails_batch([(p.premise, p.hypothesis) for p in pairs])
    elapsed = time.perf_counter() - start
    if len(verdicts) != len(pairs):
        raise RagError(f"judge {judge.name!r} returned {len(verdicts)} verdicts for {len(pairs)} pairs")
    conf = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    kinds: dict[str, list[int]] = {}
    for pair, v in zip(pairs, verdicts, strict=True):
        key = ("t" if bool(v) == pair.label else "f") + ("p" if v else "n")
        conf[key] += 1
        kinds.setdefault(pair.kind, []).append(int(bool(v) == pair.label))
    precision = _ratio(conf["tp"], conf["tp"] + conf["fp"])
    recall = _ratio(conf["tp"], conf["tp"] + conf["fn"])
    f1 = _ratio(2 * precision * recall, precision + recall) if precision + recall else 0.0
    return JudgeCheckResult(
        judge=judge.name,
        n=len(pairs),
        accuracy=(conf["tp"] + conf["tn"]) / len(pairs),
        precision=precision,
        recall=recall,
        f1=f1,
        seconds_per_pair=elapsed / len(pairs),
        confusion=conf,
        accuracy_by_kind={k: sum(v) / len(v) for k, v in sorted(kinds.items())},
    )


# --------------------------------------------------------------------------------------------
# Candidate pairs for labelling

_STOP = frozenset(
    "a an the of in on at to for and or but is are was were be been by with as from that this it its "
    "his her their he she they who which what when where how has have had not no".split()
)


def _words(text: str) -> set[str]:
    return {w for w in words(text) if w not in _STOP}


_ABBREV = re.compile(r"(?:\b[A-Z]|\b(?:St|Mr|Mrs|Ms|Dr|Jr|Sr|Inc|Co|No|vs|U\.S|U\.K))\.$")


def _sentences(text: str) -> list[str]:
    """Rough sentence split that keeps initials and common abbreviations ("John B. Watson")."""
    out: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text):
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return [s.strip() for s in out if s.strip()]


def _overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's content words found in the passage."""
    sw = _words(sentence)
    return len(sw & _words(passage)) / len(sw) if sw else 0.0


def _candidate(qid: str, sentence: str, kind: str, title: str, body: str, passage_id: str) -> dict:
    return {
        "premise": premise_text(title, body),
        "hypothesis": sentence,
        "kind": kind,
        "source": {"question_id": qid, "passage_id": passage_id},
        "label": None,
        "overlap": round(_overlap(sentence, body), 3),
    }


def candidate_pairs(asqa: Sequence[dict], corpus: Path, n: int, seed: int = 0) -> list[dict]:
    """Unlabelled candidates (``label`` None) for about ``n`` long-answer sentences.

    For each sampled question, its long-answer sentence best covered by one knowledge snippet:
    ``positive`` -- that snippet (the one sharing most of the sentence's content words; it often
    states only part of the sentence: read before labelling);
    ``negative-same-page`` -- another corpus passage with the snippet's title;
    ``negative-other-question`` -- a knowledge snippet of another question. Each record: premise
    (``Title: {title}\\n{text}``), hypothesis, kind, source (``{question_id, passage_id}``), label,
    overlap.
    """
    corpus = Path(corpus)
    if not corpus.is_file():
        raise MissingFileError(f"corpus {corpus} not found: pass the ASQA corpus.jsonl")
    if n <= 0:
        raise RagError(f"n must be positive, got {n}")
    by_title: dict[str, list[dict]] = {}
    by_text: dict[tuple[str, str], str] = {}
    for _, rec in iter_jsonl(corpus):
        by_title.setdefault(rec["title"], []).append(rec)
        by_text[(rec["title"], rec["text"])] = rec["id"]
    rng = random.Random(seed)
    items = [q for q in asqa if any(a.get("knowledge") for a in q.get("annotations", []))]
    rng.shuffle(items)
    out: list[dict] = []
    done = 0
    for q in items:
        if done >= n:
            break
        snippets = [
            (k["wikipage"] or "", k["content"])
            for a in q["annotations"]
            for k in a.get("knowledge") or []
            if k.get("content")
        ]
        sentences = [s for a in q["annotations"] for s in _sentences(a.get("long_answer") or "")]
        if not snippets or not sentences:
            continue
        # The sentence best covered by one snippet: most likely to yield a true positive.
        best = [(max(_overlap(s, k[1]) for k in snippets), s) for s in sentences]
        sentence = max(best, key=lambda b: (b[0], -len(b[1])))[1]
        title, text = max(snippets, key=lambda s: _overlap(sentence, s[1]))
        pid = by_text.get((title, text), f"knowledge:{q['id']}")

        out.append(_candidate(q["id"], sentence, "positive", title, text, pid))
        same = [p for p in by_title.get(title, []) if p["id"] != pid and text not in p["text"]]
        if same:
            p = rng.choice(same)
            out.append(_candidate(q["id"], sentence, "negative-same-page", p["title"], p["text"], p["id"]))
        other = rng.choice(items)
        other_snips = [k for a in other["annotations"] for k in a.get("knowledge") or []] if other is not q else []
        if other_snips:
            k = rng.choice(other_snips)
            kid = by_text.get((k["wikipage"] or "", k["content"]), f"knowledge:{other['id']}")
            out.append(_candidate(q["id"], sentence, "negative-other-question", k["wikipage"] or "", k["content"], kid))
        done += 1
    return out


# --------------------------------------------------------------------------------------------


def result_markdown(result: JudgeCheckResult, command: str, pairs_path: Path, split: str) -> str:
    """A short markdown report of one judge check."""
    c = result.confusion
    lines = [
        f"# Judge check: `{result.judge}`",
        "",
        f"Pairs: `{pairs_path}` (split: {split}, n = {result.n}). Command:",
        "",
        f"    {command}",
        "",
        "| accuracy | precision | recall | F1 | s/pair | TP | FP | TN | FN |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {result.accuracy:.3f} | {result.precision:.3f} | {result.recall:.3f} | {result.f1:.3f} | "
        f"{result.seconds_per_pair:.2f} | {c['tp']} | {c['fp']} | {c['tn']} | {c['fn']} |",
        "",
        "| kind | accuracy |",
        "|---|---|",
        *(f"| {k} | {v:.3f} |" for k, v in result.accuracy_by_kind.items()),
        "",
    ]
    return "\n".join(lines)


def write_candidates(n: int, asqa: Path | None, corpus: Path | None, seed: int, output: Path | None) -> None:
    """Write candidate pairs for ``n`` sentences to label (JSONL to ``output``, else stdout)."""
    asqa_path = asqa or benchmark_data_dir() / "asqa" / "asqa_dev.json"
    corpus = corpus or benchmark_data_dir() / "asqa" / "corpus.jsonl"
    if not asqa_path.is_file():
        raise MissingFileError(f"ASQA file {asqa_path} not found: pass --asqa")
    cands = candidate_pairs(read_json(asqa_path, "ASQA file"), corpus, n, seed)
    text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cands)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def run_judge_check(
    judge_name: str,
    pairs_path: Path = DEFAULT_PAIRS,
    *,
    split: str = "all",
    limit: int | None = None,
    out: Path | None = None,
    cache: bool = True,
    command: str = "",
) -> str:
    """Score a judge on labelled pairs; returns the markdown report (also written to ``out`` as
    ``<judge>[_<split>].md`` and ``.json`` when given)."""
    if split not in SPLITS:
        raise RagError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    pairs = select_split(load_pairs(pairs_path), split)
    if limit is not None:
        pairs = pairs[:limit]
    judge = load_judge(judge_name, cache=cache)
    result = judge_check(judge, pairs)
    report = result_markdown(result, command, pairs_path, split)
    hits = getattr(judge, "hits", 0)
    if hits:
        report += f"\n{hits} of {result.n} verdicts came from the disk cache, so s/pair understates a cold run.\n"
    if out:
        out.mkdir(parents=True, exist_ok=True)
        stem = slug(result.judge, sep="_") + (f"_{split}" if split != "all" else "")
        payload = {
            **result.to_dict(),
            "judge_settings": judge.cache_id,
            "pairs": str(pairs_path),
            "split": split,
            "cached_verdicts": hits,
            "command": command,
        }
        (out / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        (out / f"{stem}.md").write_text(report, encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    """CLI: score a judge on labelled pairs, or (``--candidates N``) write candidates to label."""
    ap = argparse.ArgumentParser(prog="python -m rag.evaluation.judge_check", description=__doc__.splitlines()[0])
    ap.add_argument("--judge", default="llm", help="judge name: llm, llm:<model>, nli:<id>, true, true:<id>")
    ap.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="labelled pairs (JSONL)")
    ap.add_argument("--split", default="all", choices=SPLITS)
    ap.add_argument("--limit", type=int, default=None, help="score only the first N pairs")
    ap.add_argument("--out", type=Path, default=None, help="directory for <judge>.json and <judge>.md")
    ap.add_argument("--no-cache", action="store_true", help="do not read or write the judge's disk cache")
    ap.add_argument("--candidates", type=int, default=None, help="write candidates for N sentences instead")
    ap.add_argument("--asqa", type=Path, default=None, help="ASQA dev JSON (for --candidates)")
    ap.add_argument("--corpus", type=Path, default=None, help="corpus.jsonl (for --candidates)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", type=Path, default=None, help="candidates JSONL (for --candidates)")
    args = ap.parse_args(argv)
    command = "python -m rag.evaluation.judge_check " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        if args.candidates is not None:
            write_candidates(args.candidates, args.asqa, args.corpus, args.seed, args.output)
            return 0
        report = run_judge_check(
            args.judge,
            args.pairs,
            split=args.split,
            limit=args.limit,
            out=args.out,
            cache=not args.no_cache,
            command=command,
        )
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
