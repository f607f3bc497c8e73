"""Answer the own-documents dev questions with the default pipeline and record what it cited.

Loads the generator once (``Pipeline.from_names`` on the first index) and shares it, and the
attribution judge, with a pipeline on the second index. Resumable: questions whose id is already in
``--out`` are skipped, so an interrupted run goes on where it stopped. One JSON object a line:
the answer, its statements (text, verdict, citations, the supporting sentence), the hidden
statements, each cited passage (number, id, title, location label, pages, section, anchor, the
first 300 characters), every retrieved passage's location (to tell a retrieval miss from a choice
miss), and the timings. A question that raises is recorded with its traceback and not retried
until its line is removed.

    python experiments/own-documents/answer.py \
        --questions experiments/own-documents/questions.jsonl \
        --out experiments/own-documents/answers.jsonl --index-pdf dev-pdf --index-html dev-html

``--set key=value`` (repeatable) changes a pipeline setting, as ``rag ask --set`` does.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path
from typing import Any

from rag import Pipeline, PipelineConfig, load_index

HERE = Path(__file__).resolve().parent


def _location(passage: Any) -> dict[str, Any]:
    loc = passage.location
    if loc is None:
        return {"label": passage.title or passage.source, "pages": None, "section": [], "anchor": None}
    return {
        "label": loc.label(),
        "pages": list(loc.pages) if loc.pages else None,
        "section": list(loc.section),
        "anchor": loc.anchor,
    }


def record(question: dict[str, Any], answer: Any, seconds: float) -> dict[str, Any]:
    """The JSON line for one answered question."""
    passages = answer.passages
    statements = []
    for st in answer.statements:
        support = []
        for sup in st.support:
            passage = passages[sup.passage - 1].passage
            support.append({"passage": sup.passage, "text": passage.text[sup.start : sup.end]})
        statements.append({"text": st.text, "verdict": st.verdict, "citations": list(st.citations), "support": support})
    cited = []
    for citation in answer.citations:
        p = citation.passage
        cited.append({"number": citation.number, "id": p.id, "title": p.title, **_location(p), "text": p.text[:300]})
    retrieved = [{"number": i, "id": sp.passage.id, **_location(sp.passage)} for i, sp in enumerate(passages, 1)]
    return {
        "id": question["id"],
        "index": question["index"],
        "question": question["question"],
        "answer": answer.text,
        "answered": answer.answered,
        "quoted_fallback": answer.quoted_fallback,
        "missing_words": list(answer.missing_words),
        "statements": statements,
        "hidden": [{"text": st.text, "verdict": st.verdict, "citations": list(st.citations)} for st in answer.hidden],
        "cited": cited,
        "retrieved": retrieved,
        "generator": answer.generator,
        "timings": {k: round(v, 3) for k, v in answer.timings.items()},
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", default=str(HERE / "questions.jsonl"))
    ap.add_argument("--out", default=str(HERE / "answers.jsonl"))
    ap.add_argument("--index-pdf", default="dev-pdf", help="index name or path for collection 'pdf'")
    ap.add_argument("--index-html", default="dev-html", help="index name or path for collection 'html'")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, as rag's --set")
    ap.add_argument("--generator", default=None, help="generator short name (default: the package's default)")
    args = ap.parse_args(argv)
    config = PipelineConfig().with_settings(args.set)

    questions = [json.loads(line) for line in Path(args.questions).read_text().splitlines() if line.strip()]
    out = Path(args.out)
    done: set[str] = set()
    if out.exists():
        done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line.strip()}
    todo = [q for q in questions if q["id"] not in done]
    print(f"{len(questions)} questions, {len(done)} already answered, {len(todo)} to go", flush=True)
    if not todo:
        return 0

    names = {q["collection"]: q["index"] for q in questions}  # each question names its index
    names.update({"pdf": args.index_pdf, "html": args.index_html})
    pipelines: dict[str, Pipeline] = {}

    def pipeline(collection: str) -> Pipeline:
        if collection not in pipelines:
            if not pipelines:
                pipelines[collection] = Pipeline.from_names(names[collection], args.generator, config=config)
            else:
                first = next(iter(pipelines.values()))
                pipelines[collection] = Pipeline(
                    first.generator,
                    load_index(names[collection]),
                    first.config,
                    attribution_judge=first.attribution_judge,
                )
        return pipelines[collection]

    with out.open("a", encoding="utf-8") as fh:
        for q in todo:
            start = time.perf_counter()
            try:
                answer = pipeline(q["collection"]).ask(q["question"])
                line = record(q, answer, time.perf_counter() - start)
            except Exception:  # noqa: BLE001 - a failure is a finding: record it and go on
                line = {
                    "id": q["id"],
                    "index": q["index"],
                    "question": q["question"],
                    "error": traceback.format_exc(),
                    "seconds": round(time.perf_counter() - start, 2),
                }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            fh.flush()
            print(f"{q['id']}: {line['seconds']} s {'ERROR' if 'error' in line else ''}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
