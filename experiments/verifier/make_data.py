"""Training pairs for the verifier: (premise, hypothesis, label), made offline from ASQA's tuning
questions only.

Sources, each pair tagged with its ``kind``:

* ``annotation``: a sentence of an annotator's long answer against each knowledge snippet of the
  same question, labelled by overlap (every number and name of the sentence in the snippet and
  most of its content words: supported; a number or most of its content missing: not);
  sentences in between are left out rather than guessed.
* ``extractive``: a sentence of a knowledge snippet against the snippet (supported), and against
  the other snippets and the BM25 neighbours of the same question, labelled by the same rule
  (most of these are the hard "same page, other passage" negatives).
* ``judge-0.5b``: statements the pipeline showed in archived tuning runs, i.e. what the 0.5B
  attribution judge called supported, against the passages they cite (its "yes" is reliable:
  precision 1.00 on held-out pairs; its "no" is not, so hidden statements are not used). They are
  read from ``judge_positives.jsonl`` in this folder (question id, sentence, premise).
* ``perturbed``: a supported pair with one fact of the hypothesis changed (a number, a year, a
  name swapped for another name of the same question's passages, a negation added or removed):
  not supported (the FactCC recipe).

Never used: the 300 pooled-300 questions, the questions of the labelled judge pairs
(``tests/data/judge_pairs.jsonl``, both splits), the evaluation judge's verdicts.

    python experiments/verifier/make_data.py --out experiments/verifier/data
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from rag.indexing.bm25 import BM25Config, BM25Index
from rag.text import content_words, split_sentences

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NUMBER_RE = re.compile(r"\b\d[\d,.]*\b")
NAME_RE = re.compile(r"\b(?:[A-Z][a-z]+(?:\s+(?:of|the|de|and|van|von)\s+|\s+)?)+[A-Z][a-z]+\b|\b[A-Z][a-z]{2,}\b")
NEGATIONS = (
    (" was ", " was not "),
    (" is ", " is not "),
    (" were ", " were not "),
    (" are ", " are not "),
    (" did ", " did not "),
    (" has ", " has not "),
    (" can ", " cannot "),
    (" will ", " will not "),
)


def premise_of(title: str, text: str) -> str:
    """The premise as the citation metrics give it (ALCE): ``Title: {title}\\n{text}``."""
    return f"Title: {title}\n{text}"


def numbers(text: str) -> set[str]:
    return {n.strip(".,").replace(",", "") for n in NUMBER_RE.findall(text)}


def names(text: str) -> set[str]:
    """Capitalised words that are not the first word of the sentence (a crude name finder)."""
    first = text.split(" ", 1)[0]
    return {n for n in NAME_RE.findall(text) if n != first}


def overlap_label(premise: str, hypothesis: str) -> bool | None:
    """True when the premise holds every number and name of the hypothesis and 85% of its
    content words; False when a number is missing or under half of its content words are there;
    None (left out) in between."""
    words = content_words(hypothesis)
    if len(words) < 3:
        return None
    p_words = content_words(premise)
    recall = len(words & p_words) / len(words)
    p_numbers = numbers(premise)
    missing_number = bool(numbers(hypothesis) - p_numbers)
    p_lower = premise.lower()
    missing_names = [n for n in names(hypothesis) if n.lower() not in p_lower]
    if not missing_number and not missing_names and recall >= 0.85:
        return True
    if missing_number or recall < 0.5 or len(missing_names) >= 2:
        return False
    return None


def perturb(hypothesis: str, other_names: list[str], rng: random.Random) -> str | None:
    """The hypothesis with one fact changed, or None when it holds nothing to change."""
    options = []
    nums = [m for m in NUMBER_RE.finditer(hypothesis)]
    if nums:
        options.append("number")
    own = sorted(names(hypothesis))
    swaps = [n for n in other_names if n not in hypothesis]
    if own and swaps:
        options.append("name")
    if any(a in hypothesis or b in hypothesis for a, b in NEGATIONS):
        options.append("negation")
    if not options:
        return None
    choice = rng.choice(options)
    if choice == "number":
        m = rng.choice(nums)
        raw = m.group().strip(".,")
        digits = raw.replace(",", "")
        if not digits.isdigit():
            return None
        value = int(digits)
        if 1000 <= value <= 2100:  # a year
            new = str(value + rng.choice([-10, -5, -3, -2, -1, 1, 2, 3, 5, 10]))
        else:
            new = str(max(0, value + rng.choice([-1, 1]) * max(1, int(value * rng.uniform(0.1, 0.9)))))
        if new == digits:
            return None
        return hypothesis[: m.start()] + new + hypothesis[m.start() + len(raw) :]
    if choice == "name":
        old = rng.choice(own)
        return hypothesis.replace(old, rng.choice(swaps), 1)
    for a, b in rng.sample(NEGATIONS, len(NEGATIONS)):
        if b in hypothesis:
            return hypothesis.replace(b, a, 1)
        if a in hypothesis:
            return hypothesis.replace(a, b, 1)
    return None


def excluded_questions(shared: Path) -> set[str]:
    pooled = set((shared / "asqa" / "pooled300_ids.txt").read_text().split())
    labelled = set()
    with (REPO / "tests" / "data" / "judge_pairs.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            labelled.add(json.loads(line)["source"].split("/", 1)[0])
    return pooled | labelled


def question_pairs(item: dict, bm25: BM25Index, corpus: list[dict], rng: random.Random) -> Iterator[dict]:
    """The annotation and extractive pairs of one question."""
    snippets = []
    for ann in item["annotations"]:
        snippets += [premise_of(k.get("wikipage") or "", k["content"]) for k in ann["knowledge"]]
    snippets = list(dict.fromkeys(snippets))
    if not snippets:
        return
    for ann in item["annotations"]:
        for sentence in split_sentences(ann["long_answer"]):
            for premise in snippets:
                label = overlap_label(premise, sentence)
                if label is not None:
                    yield {"premise": premise, "hypothesis": sentence, "label": label, "kind": "annotation"}
    for snippet in snippets:
        body = snippet.split("\n", 1)[1]
        for sentence in split_sentences(body)[:3]:
            if len(content_words(sentence)) < 4:
                continue
            yield {"premise": snippet, "hypothesis": sentence, "label": True, "kind": "extractive"}
            neighbours = [corpus[h.row] for h in bm25.search(sentence, 6)]
            others = [premise_of(p["title"], p["text"]) for p in neighbours] + rng.sample(
                snippets, min(2, len(snippets))
            )
            for premise in others:
                if sentence in premise:
                    continue
                label = overlap_label(premise, sentence)
                if label is not None:
                    yield {"premise": premise, "hypothesis": sentence, "label": label, "kind": "extractive"}


def judge_pairs(path: Path, excluded: set[str]) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["question_id"] not in excluded:
                yield {
                    "premise": rec["premise"],
                    "hypothesis": rec["sentence"],
                    "label": True,
                    "kind": "judge-0.5b",
                    "question": rec["question_id"],
                }


def split_of(question_id: str) -> str:
    """One question's pairs all in one split: a tenth of the questions for validation."""
    return "valid" if int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 10 == 0 else "train"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared_env = os.environ.get("RAG_SHARED_DATA")
    ap.add_argument(
        "--data-dir", type=Path, default=Path(shared_env) if shared_env else REPO.parent / "shared" / "data"
    )
    ap.add_argument("--out", type=Path, default=HERE / "data")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not (args.data_dir / "asqa" / "asqa_dev.json").is_file():
        raise SystemExit(f"needs the ASQA data: no asqa/asqa_dev.json under {args.data_dir} (--data-dir)")
    rng = random.Random(args.seed)
    excluded = excluded_questions(args.data_dir)
    items = [
        it for it in json.loads((args.data_dir / "asqa" / "asqa_dev.json").read_text()) if it["id"] not in excluded
    ]
    corpus = [json.loads(line) for line in (args.data_dir / "asqa" / "corpus.jsonl").open(encoding="utf-8")]
    bm25 = BM25Index.build([f"{p['title']}\n{p['text']}" for p in corpus], BM25Config())
    pairs: list[dict] = []
    for item in items:
        for pair in question_pairs(item, bm25, corpus, rng):
            pairs.append(pair | {"question": item["id"]})
    pairs += judge_pairs(HERE / "judge_positives.jsonl", excluded)
    # Perturbed negatives: one per supported pair, names taken from the same question's pairs.
    names_of: dict[str, list[str]] = {}
    for pair in pairs:
        names_of.setdefault(pair["question"], []).extend(names(pair["premise"]))
    for pair in [p for p in pairs if p["label"]]:
        changed = perturb(pair["hypothesis"], sorted(set(names_of[pair["question"]])), rng)
        if changed and changed != pair["hypothesis"] and changed not in pair["premise"]:
            pairs.append(pair | {"hypothesis": changed, "label": False, "kind": "perturbed"})
    seen: set[tuple[str, str]] = set()
    unique = []
    for pair in pairs:
        key = (pair["premise"], pair["hypothesis"])
        if key not in seen:
            seen.add(key)
            unique.append(pair)
    rng.shuffle(unique)
    args.out.mkdir(parents=True, exist_ok=True)
    counts: Counter[tuple[str, str, bool]] = Counter()
    files = {name: (args.out / f"{name}.jsonl").open("w", encoding="utf-8") for name in ("train", "valid")}
    for pair in unique:
        split = split_of(pair["question"])
        counts[(split, pair["kind"], pair["label"])] += 1
        files[split].write(json.dumps(pair, ensure_ascii=False) + "\n")
    for fh in files.values():
        fh.close()
    print(f"{len(items)} questions (excluded {len(excluded)}: pooled-300 and the labelled pairs' questions)")
    for key, n in sorted(counts.items()):
        print(*key, n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
