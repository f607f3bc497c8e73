"""ASQA benchmark data: reading the dev split and ALCE's files, selecting questions, writing ALCE output.

Three input layouts are detected automatically:

- the ASQA dev split as shipped in the shared data (a JSON list of items with ``id``),
- ALCE's own files (``asqa_eval_gtr_top100.json``: a list of items with ``sample_id`` and ``docs``),
  and ALCE output files (a JSON object whose ``data`` holds such items),
- the official ASQA release (``ASQA.json``: ``{"train": {...}, "dev": {id: item}}``; the dev split is read).

The writer produces ALCE's output format (``{"args": ..., "data": [...]}`` whose items hold
``question``, ``output``, ``docs``, ``qa_pairs``, ``answer``, ``annotations``), which is what
ALCE's ``eval.py`` reads, so ALCE's own scorer can check a run of this project.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import MissingFileError, RagError
from rag.paths import benchmark_data_dir
from rag.pipeline import MAX_QUESTION_CHARS
from rag.types import Passage

logger = logging.getLogger(__name__)

ASQA_ENV = "RAG_ASQA"
SUBSETS: dict[str, str] = {"pooled300": "pooled300_ids.txt"}
#: The dev questions outside pooled-300 (648 of 948): settings are tuned on these, and reported on
#: pooled-300, so that pooled-300 never becomes a tuning set.
TUNING_SUBSET = "tune"


@dataclass(frozen=True)
class QAPair:
    """One disambiguated sub-question and its short-answer aliases."""

    question: str
    short_answers: tuple[str, ...]
    wikipage: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class Annotation:
    """One human reference: the long answer and the knowledge snippets its writer used."""

    long_answer: str
    knowledge: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class AsqaItem:
    """One ASQA question.

    ``docs`` are ALCE's retrieved passages when the file carries them (ALCE format), else None.
    ``answer`` is ALCE's reference answer field (the first annotation's long answer when absent).
    ``raw`` is the record as read, kept so the ALCE writer can give back every original field.
    """

    id: str
    question: str
    qa_pairs: tuple[QAPair, ...]
    annotations: tuple[Annotation, ...]
    docs: tuple[Passage, ...] | None = None
    answer: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    def to_alce_dict(self) -> dict[str, Any]:
        """The item as ALCE's eval.py reads it (without ``output``)."""
        return _alce_base(self)


def default_data_path() -> Path:
    """``$RAG_ASQA`` if set, else ``asqa/asqa_dev.json`` in the shared data."""
    env = os.environ.get(ASQA_ENV)
    if env:
        return Path(env)
    return benchmark_data_dir() / "asqa" / "asqa_dev.json"


def _objects(value: Any, where: str, name: str) -> list[Mapping[str, Any]]:
    """``value`` when it is a list of JSON objects, else a :class:`RagError` naming the field."""
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise RagError(f"{where}: '{name}' must be a list of JSON objects, got {json.dumps(value)[:80]}")
    return value


def _parse_item(rec: Mapping[str, Any], where: str) -> AsqaItem:
    if not isinstance(rec, Mapping):
        raise RagError(f"{where}: expected a JSON object per question, got {type(rec).__name__}")
    item_id = rec.get("id", rec.get("sample_id"))
    question = rec.get("question", rec.get("ambiguous_question"))
    if item_id is None or question is None or "qa_pairs" not in rec:
        raise RagError(
            f"{where}: not an ASQA item (needs id or sample_id, question, qa_pairs); "
            "pass an ASQA dev file or ALCE's asqa_eval_gtr_top100.json"
        )
    if not isinstance(question, str):
        raise RagError(f"{where}: the question must be a string, got {type(question).__name__}")
    if not question.strip():
        raise RagError(f"{where}: the question is empty")
    if len(question.strip()) > MAX_QUESTION_CHARS:
        length = len(question.strip())
        raise RagError(f"{where}: the question is {length} characters long; at most {MAX_QUESTION_CHARS} are accepted")
    for qa in _objects(rec["qa_pairs"], where, "qa_pairs"):
        answers = qa.get("short_answers", [])
        if not isinstance(answers, list) or not all(isinstance(a, (str, int, float)) for a in answers):
            raise RagError(f"{where}: 'short_answers' of a qa_pair must be a list of strings, got {answers!r:.80}")
    qa_pairs = tuple(
        QAPair(
            question=str(qa.get("question", "")),
            short_answers=tuple(str(a) for a in qa.get("short_answers", [])),
            wikipage=qa.get("wikipage"),
            context=qa.get("context"),
        )
        for qa in rec["qa_pairs"]
    )
    annotations = tuple(
        Annotation(
            long_answer=str(a.get("long_answer", "")),
            knowledge=tuple(_objects(a.get("knowledge") or [], where, "knowledge")),
        )
        for a in _objects(rec.get("annotations") or [], where, "annotations")
    )
    docs: tuple[Passage, ...] | None = None
    if rec.get("docs") is not None:
        docs = tuple(
            Passage(
                id=str(d.get("id", f"{item_id}-{i}")),
                text=str(d.get("text", "")),
                title=str(d.get("title", "")),
            )
            for i, d in enumerate(_objects(rec["docs"], where, "docs"))
        )
    answer = rec.get("answer")
    if answer is None:
        answer = annotations[0].long_answer if annotations else ""
    return AsqaItem(
        id=str(item_id),
        question=str(question),
        qa_pairs=qa_pairs,
        annotations=annotations,
        docs=docs,
        answer=str(answer),
        raw=dict(rec),
    )


def read_asqa_file(path: str | Path) -> list[AsqaItem]:
    """Read every question of an ASQA file in any of the supported layouts (see the module doc)."""
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(
            f"ASQA file not found: {p} (pass --data PATH or set ${ASQA_ENV} to an ASQA dev file "
            "or ALCE's asqa_eval_gtr_top100.json)"
        )
    try:
        with p.open(encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise RagError(f"{p} is not valid JSON ({e}); pass an ASQA or ALCE-format JSON file") from e
    except UnicodeDecodeError as e:
        raise RagError(f"{p} is not UTF-8 text (byte {e.start}): pass an ASQA or ALCE-format JSON file") from e
    except RecursionError as e:
        raise RagError(f"{p} is nested too deeply to be an ASQA or ALCE-format JSON file") from e
    records: list[Any]
    if isinstance(data, list):
        records = data
    elif isinstance(data, dict) and isinstance(data.get("data"), list):
        records = data["data"]  # an ALCE output file
    elif isinstance(data, dict) and isinstance(data.get("dev"), dict):
        records = list(data["dev"].values())  # the official ASQA release
    else:
        raise RagError(
            f"{p}: unknown layout (expected a list of items, an ALCE output with 'data', "
            "or the ASQA release with 'dev')"
        )
    if not records:
        raise RagError(f"{p} holds no questions")
    items = [_parse_item(r, f"{p} item {i}") for i, r in enumerate(records)]
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise RagError(f"{p}: question id {it.id} appears twice; ids must be unique")
        seen.add(it.id)
    logger.info("read %d ASQA questions from %s", len(items), p)
    return items


def load_subset_ids(subset: str) -> list[str]:
    """Ids of a named subset (``pooled300``) or of a file with one id per line."""
    if subset in SUBSETS:
        p = benchmark_data_dir() / "asqa" / SUBSETS[subset]
    else:
        p = Path(subset)
        if not p.is_file():
            raise RagError(
                f"unknown subset {subset!r}: use one of {', '.join(sorted([*SUBSETS, TUNING_SUBSET]))} "
                "or the path of a file with one question id per line"
            )
    if not p.is_file():
        raise MissingFileError(f"subset file not found: {p} (is the shared data at {benchmark_data_dir()}?)")
    return [line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def subset_filter(subset: str) -> Callable[[str], bool]:
    """Which question ids belong to ``subset``: a named subset, ``tune`` (every id outside
    pooled-300) or a file of ids. Raises :class:`RagError` for an unknown name or a missing file."""
    if subset == TUNING_SUBSET:
        held_out = set(load_subset_ids("pooled300"))
        return lambda qid: qid not in held_out
    wanted = set(load_subset_ids(subset))
    return lambda qid: qid in wanted


def select_items(
    items: Sequence[AsqaItem],
    *,
    limit: int | None = None,
    subset: str | None = None,
    seed: int | None = None,
) -> list[AsqaItem]:
    """Filter to ``subset`` (file order kept), shuffle with ``seed`` if given, then keep ``limit``.

    A larger ``limit`` with the same seed gives a superset in the same order, so a run can grow.
    """
    if limit is not None and limit < 1:
        raise RagError(f"--limit must be at least 1, got {limit}")
    out = list(items)
    if subset is not None:
        keep = subset_filter(subset)
        out = [it for it in out if keep(it.id)]
        if not out:
            raise RagError(f"no question of the data is in subset {subset!r}; check --data and --subset")
    if seed is not None:
        random.Random(seed).shuffle(out)
    if limit is not None:
        out = out[:limit]
    return out


def load_asqa(
    path: str | Path | None = None,
    *,
    limit: int | None = None,
    subset: str | None = None,
    seed: int | None = None,
) -> list[AsqaItem]:
    """Load ASQA (``path`` or :func:`default_data_path`) and select questions (:func:`select_items`)."""
    return select_items(read_asqa_file(path or default_data_path()), limit=limit, subset=subset, seed=seed)


def qa_pair_dict(qa: QAPair) -> dict[str, Any]:
    """One sub-question as ALCE's ``qa_pairs`` entries hold it (what ``str_em`` reads)."""
    d: dict[str, Any] = {}
    if qa.context is not None:
        d["context"] = qa.context
    d.update(question=qa.question, short_answers=list(qa.short_answers), wikipage=qa.wikipage)
    return d


def _alce_base(item: AsqaItem) -> dict[str, Any]:
    # Start from the record as read so nothing ALCE (or a user) relies on is lost; the typed
    # fields win where they exist.
    base = {k: v for k, v in item.raw.items() if k not in ("docs", "output")}
    if "sample_id" not in base:
        base["sample_id"] = item.id
    base["question"] = item.question
    if not item.raw.get("qa_pairs"):
        base["qa_pairs"] = [qa_pair_dict(q) for q in item.qa_pairs]
    if not item.raw.get("annotations"):
        base["annotations"] = [
            {"knowledge": [dict(k) for k in a.knowledge], "long_answer": a.long_answer} for a in item.annotations
        ]
    base["answer"] = item.answer
    return base


def _doc_dict(item: AsqaItem, passage: Passage | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(passage, Mapping):
        return dict(passage)
    # A passage that came from the item's own docs is written back with all of ALCE's fields.
    for raw in item.raw.get("docs") or ():
        if str(raw.get("id")) == passage.id and raw.get("text") == passage.text:
            return dict(raw)
    return {"id": passage.id, "title": passage.title, "text": passage.text}


def alce_record(item: AsqaItem, output: str, docs: Iterable[Passage | Mapping[str, Any]] | None) -> dict[str, Any]:
    """One ``data`` item of ALCE's output format: the question's fields, ``output`` and ``docs``.

    ``docs`` are the passages given to the generator, in prompt order (citation [n] is docs[n-1]);
    an empty list for a closed-book answer.
    """
    rec = _alce_base(item)
    rec["output"] = output
    rec["docs"] = [_doc_dict(item, d) for d in (docs or ())]
    return rec


def write_alce_output(
    path: str | Path, records: Sequence[Mapping[str, Any]], args: Mapping[str, Any] | None = None
) -> Path:
    """Write ``{"args": args, "data": records}`` (ALCE's output layout) to ``path``; returns the path.

    ``records`` are built with :func:`alce_record`. ALCE's ``eval.py --f PATH`` scores the file.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump({"args": dict(args or {}), "data": list(records)}, f, ensure_ascii=False, indent=1)
    tmp.replace(p)
    return p
