"""rag.indexing.layout: where an index lives, the locks that keep two writers from losing each
other's work, and a write killed between its renames put right by the next reader."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DOCS, fingerprint, rewrite_manifest, write_docs

from rag.indexing.layout import recover, resolve_index_path
from rag.indexing.store import build_index, load_index


def test_resolve_index_path(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_INDEXES", str(tmp_path / "home"))
    assert resolve_index_path("asqa") == tmp_path / "home" / "asqa"
    assert resolve_index_path("some/where") == Path("some/where")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "local").mkdir()  # a folder of that name here does not make a name a path
    assert resolve_index_path("local") == tmp_path / "home" / "local"
    assert resolve_index_path("./local") == Path("./local")
    for bad in ("", ".", ".."):
        with pytest.raises(ValueError, match="is not an index name"):
            resolve_index_path(bad)


# ---------------------------------------------------------------- writers and readers


def test_two_writers_at_once_lose_nothing(index_copy: Path, tmp_path: Path) -> None:
    new = write_docs(tmp_path / "new", {"a.txt": "Ants farm fungus.", "b.txt": "Wasps build paper nests."})
    lock = index_copy.parent / f".{index_copy.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a writer at work: both additions must wait for it
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    env = {**os.environ, "RAG_INDEXES": str(tmp_path / "indexes")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "from rag.cli import main; main()", "index", str(new / f), "--add"]
            + ["--name", str(index_copy)],
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            env=env,
        )
        for f, log in zip(("a.txt", "b.txt"), logs, strict=True)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all("waiting for another rag process" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(p.poll() is None for p in procs), [log.read_text() for log in logs]
            time.sleep(0.2)
    finally:
        os.close(fd)  # releases the lock
    assert [p.wait(timeout=180) for p in procs] == [0, 0], [log.read_text() for log in logs]
    index = load_index(index_copy, device="cpu")
    assert {p.id for p in index.passages} == {"tea.md", "coffee.md", "bees.txt", "a.txt", "b.txt"}
    assert index.manifest["passage_count"] == 5 and len(index.manifest["sources"]) == 5
    assert index.passages[index.bm25.search("wasps paper", 1)[0].row].id == "b.txt"


def test_a_write_killed_between_its_renames_is_restored_or_finished(
    index_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = fingerprint(index_copy)
    # killed after moving the old index aside, before moving the new one in (no new one complete)
    old = index_copy.parent / f".{index_copy.name}.abcd1234.old"
    partial = index_copy.parent / f".{index_copy.name}.x1y2z3w4.tmp"
    os.replace(index_copy, old)
    partial.mkdir()
    (partial / "passages.jsonl").write_text("{}\n")  # no manifest: never finished
    index = load_index(index_copy, device="cpu")  # the next reader puts it back
    assert len(index) == 3 and fingerprint(index_copy) == before
    assert not old.exists() and not partial.exists()
    assert "restored the index" in caplog.text
    # killed with the new index complete: the build is finished, the old copy removed
    shutil.copytree(index_copy, partial)
    manifest = json.loads((partial / "manifest.json").read_text())
    manifest["updated"] = "the new one"
    rewrite_manifest(partial, manifest)
    os.replace(index_copy, old)
    recover(index_copy)
    assert json.loads((index_copy / "manifest.json").read_text())["updated"] == "the new one"
    assert not old.exists() and not partial.exists()
    # a stale copy beside a complete index is removed by the next write
    shutil.copytree(index_copy, old)
    build_index([write_docs(tmp_path / "d", DOCS)], index_copy, device="cpu", show_progress=False, overwrite=True)
    assert not old.exists()
    assert sorted(p.name for p in index_copy.parent.iterdir()) == [".idx.lock", ".idx.swap.lock", "idx"]
