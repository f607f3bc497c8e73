"""rag.evaluation.runner: a run answers every question with every system; a run killed and resumed
gives the same outputs.jsonl as one that was not; a larger --limit extends a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import ASQA_TINY, Killed, run_config

from rag.evaluation import runner
from rag.evaluation.data import read_asqa_file
from rag.evaluation.rundir import OUTPUTS, write_alce_outputs

if TYPE_CHECKING:
    from conftest import Factory


def _lines_without_timings(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        assert set(rec["timings"]) >= {"retrieval", "generation", "total"}
        rec.pop("timings")
        out.append(rec)
    return out


def test_killed_and_resumed_run_equals_uninterrupted(tmp_path: Path, factory: Factory) -> None:
    cfg = run_config()
    full = tmp_path / "full"
    res = runner.run_benchmark(cfg, full, pipeline_factory=factory(), progress=False)
    assert (res.written, res.skipped) == (
        15,
        0,
    )  # 5 questions x (rag/fake-a, closed-book/fake-a, closed-book/fake-b)
    expected = _lines_without_timings(full / OUTPUTS)
    assert [(r["system"], r["id"]) for r in expected[:6]] == [
        ("rag/fake-a", it.id) for it in read_asqa_file(ASQA_TINY)[:5]
    ] + [("closed-book/fake-a", read_asqa_file(ASQA_TINY)[0].id)]
    assert expected[0]["output"].endswith("[1].") and len(expected[0]["passages"]) == 3
    assert expected[5]["passages"] == [] and expected[5]["output"].startswith("fake-a says")

    part = tmp_path / "part"
    with pytest.raises(Killed):
        runner.run_benchmark(cfg, part, pipeline_factory=factory([0], die_after=7), progress=False)
    out = part / OUTPUTS
    assert len(out.read_text(encoding="utf-8").splitlines()) == 7
    with out.open("a", encoding="utf-8") as f:  # the kill tore the 8th line while it was written
        f.write('{"id": "-123", "system": "closed-bo')
    with pytest.raises(ValueError, match="--resume"):
        runner.run_benchmark(cfg, part, pipeline_factory=factory(), progress=False)
    counter = [0]
    res = runner.run_benchmark(cfg, part, resume=True, pipeline_factory=factory(counter), progress=False)
    assert (res.written, res.skipped) == (8, 7)
    assert counter[0] == 8  # nothing answered twice
    assert _lines_without_timings(out) == expected
    # resuming a finished run does nothing
    res = runner.run_benchmark(cfg, part, resume=True, pipeline_factory=factory(), progress=False)
    assert (res.written, res.skipped) == (0, 15)
    # a setting that changes the answers cannot be resumed into the same run
    with pytest.raises(ValueError, match="k=3"):
        runner.run_benchmark(run_config(k=2), part, resume=True, pipeline_factory=factory(), progress=False)


def test_docs_from_file_needs_docs(tmp_path: Path, factory: Factory) -> None:
    dev = tmp_path / "dev.json"
    dev.write_text(json.dumps([{"id": "a", "question": "q?", "qa_pairs": []}]), encoding="utf-8")
    with pytest.raises(ValueError, match="docs-from-file"):
        runner.run_benchmark(run_config(data=str(dev)), tmp_path / "r", pipeline_factory=factory(), progress=False)


def test_resume_with_the_default_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: Factory) -> None:
    monkeypatch.setenv("RAG_ASQA", str(ASQA_TINY))
    cfg = run_config(data=None, limit=2)
    runner.run_benchmark(cfg, tmp_path / "r", pipeline_factory=factory(), progress=False)
    res = runner.run_benchmark(
        run_config(data=None, limit=3), tmp_path / "r", resume=True, pipeline_factory=factory(), progress=False
    )
    assert (res.written, res.skipped) == (3, 6)  # a larger --limit extends the run


def test_alce_outputs(tmp_path: Path, factory: Factory) -> None:
    run_dir = tmp_path / "run"
    runner.run_benchmark(
        run_config(limit=2, closed_book=False, baseline=None),
        run_dir,
        pipeline_factory=factory(),
        progress=False,
    )
    (path,) = write_alce_outputs(run_dir)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    items = read_asqa_file(ASQA_TINY)
    assert [d["sample_id"] for d in data] == [items[0].id, items[1].id]
    assert data[0]["output"].endswith("[1].")
    # the docs given are the item's first k, with all of ALCE's fields
    assert data[0]["docs"] == json.loads(ASQA_TINY.read_text(encoding="utf-8"))[0]["docs"][:3]
