"""rag.evaluation.data: ASQA in the ALCE format (a round trip), the dev layout, selection, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import needs_shared_data, shared_file

from rag.evaluation.data import (
    ASQA_ENV,
    AsqaItem,
    alce_record,
    default_data_path,
    load_asqa,
    load_subset_ids,
    read_asqa_file,
    select_items,
    write_alce_output,
)

SAMPLE10 = shared_file("asqa", "asqa_alce_format_sample10.json")
DEV = shared_file("asqa", "asqa_dev.json")


@needs_shared_data
def test_alce_sample10_round_trip(tmp_path: Path) -> None:
    original = json.loads(SAMPLE10.read_text(encoding="utf-8"))
    items = read_asqa_file(SAMPLE10)
    assert len(items) == 10
    first = items[0]
    assert first.id == "-7013890438520559398"
    assert first.question == "Who has the highest goals in world football?"
    assert first.qa_pairs[0].short_answers == ("Daei", "Ali Daei")
    assert first.qa_pairs[0].context == "No context provided"
    assert len(first.annotations) == 2
    assert first.docs is not None and len(first.docs) == 100
    assert first.docs[0].id == "6669150" and first.docs[0].title == "Argentina\u2013Brazil football rivalry"
    assert first.answer == original[0]["answer"]

    records = [alce_record(it, f"answer {i} [1].", it.docs) for i, it in enumerate(items)]
    out = write_alce_output(tmp_path / "alce.json", records, {"k": 100})
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["args"] == {"k": 100}
    assert len(written["data"]) == 10
    for i, (orig, rec) in enumerate(zip(original, written["data"], strict=True)):
        assert rec["output"] == f"answer {i} [1]."
        # every original field comes back unchanged, docs with ALCE's score/summary/extraction
        assert {k: v for k, v in rec.items() if k != "output"} == orig
    again = read_asqa_file(out)
    assert again == items  # typed items equal after the round trip


@needs_shared_data
def test_alce_record_holds_what_alce_eval_reads() -> None:
    item = read_asqa_file(SAMPLE10)[1]
    assert item.docs is not None
    rec = alce_record(item, "x", list(item.docs[:3]))
    for key in ("question", "output", "docs", "qa_pairs", "answer", "annotations"):
        assert key in rec
    assert [d["id"] for d in rec["docs"]] == [d.id for d in item.docs[:3]]
    assert set(rec["docs"][0]) >= {"title", "text"}
    assert len(rec["annotations"]) == 2 and "long_answer" in rec["annotations"][1]
    assert all("short_answers" in qa for qa in rec["qa_pairs"])


def test_dev_layout_and_foreign_docs(tmp_path: Path) -> None:
    dev = [
        {
            "id": "q1",
            "question": "Who?",
            "qa_pairs": [{"question": "Who a?", "short_answers": ["Ann"], "wikipage": None}],
            "annotations": [
                {"long_answer": "Ann did.", "knowledge": []},
                {"long_answer": "It was Ann.", "knowledge": []},
            ],
        },
        {
            "id": "q2",
            "question": "When?",
            "qa_pairs": [{"question": "When b?", "short_answers": ["1990"], "wikipage": "B"}],
            "annotations": [{"long_answer": "In 1990.", "knowledge": [{"content": "x", "wikipage": "B"}]}],
        },
    ]
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(dev), encoding="utf-8")
    items = read_asqa_file(path)
    assert [it.id for it in items] == ["q1", "q2"]
    assert items[0].docs is None
    assert items[0].answer == "Ann did."  # first annotation when there is no 'answer'
    from rag.types import Passage

    rec = alce_record(items[1], "In 1990 [1].", [Passage(id="p9", text="T", title="B")])
    assert rec["sample_id"] == "q2" and rec["answer"] == "In 1990."
    assert rec["docs"] == [{"id": "p9", "title": "B", "text": "T"}]
    assert rec["annotations"][0]["knowledge"] == [{"content": "x", "wikipage": "B"}]


def test_official_release_layout(tmp_path: Path) -> None:
    doc = {
        "train": {},
        "dev": {
            "s1": {
                "sample_id": "s1",
                "ambiguous_question": "Q?",
                "qa_pairs": [{"question": "q", "short_answers": ["a"], "wikipage": None}],
                "annotations": [{"long_answer": "a.", "knowledge": []}],
            }
        },
    }
    path = tmp_path / "ASQA.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (item,) = read_asqa_file(path)
    assert (item.id, item.question) == ("s1", "Q?")


def _items(n: int) -> list[AsqaItem]:
    return [AsqaItem(id=f"q{i}", question=f"Q{i}?", qa_pairs=(), annotations=()) for i in range(n)]


def test_select_limit_seed_subset(tmp_path: Path) -> None:
    items = _items(10)
    assert [it.id for it in select_items(items, limit=3)] == ["q0", "q1", "q2"]
    shuffled = select_items(items, seed=7)
    assert sorted(it.id for it in shuffled) == sorted(it.id for it in items)
    assert [it.id for it in shuffled] != [it.id for it in items]
    # a bigger limit with the same seed extends the same order
    assert select_items(items, seed=7, limit=6)[:3] == select_items(items, seed=7, limit=3)
    ids = tmp_path / "ids.txt"
    ids.write_text("q7\nq2\n\n", encoding="utf-8")
    assert [it.id for it in select_items(items, subset=str(ids))] == ["q2", "q7"]  # file order kept
    with pytest.raises(ValueError, match="unknown subset"):
        select_items(items, subset="pooled301")
    with pytest.raises(ValueError, match="--limit"):
        select_items(items, limit=0)
    other = tmp_path / "other.txt"
    other.write_text("zzz\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no question"):
        select_items(items, subset=str(other))


@needs_shared_data
def test_dev_default_and_pooled300(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ASQA_ENV, raising=False)
    assert default_data_path() == DEV
    ids = load_subset_ids("pooled300")
    assert len(ids) == 300 and len(set(ids)) == 300
    items = load_asqa(subset="pooled300", limit=5)
    assert len(items) == 5 and all(it.id in set(ids) for it in items)
    assert all(len(it.annotations) == 2 for it in items)


def test_env_override_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ASQA_ENV, str(tmp_path / "mine.json"))
    assert default_data_path() == tmp_path / "mine.json"
    with pytest.raises(FileNotFoundError, match="--data"):
        load_asqa()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_asqa_file(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([{"foo": 1}]), encoding="utf-8")
    with pytest.raises(ValueError, match="not an ASQA item"):
        read_asqa_file(wrong)
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps([{"id": "a", "question": "q", "qa_pairs": []}] * 2), encoding="utf-8")
    with pytest.raises(ValueError, match="twice"):
        read_asqa_file(dup)
