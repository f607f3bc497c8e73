"""The README's quick start in new processes, as on a user's machine: no benchmark data, no NLTK
data, and a decoy ``../shared`` beside the working folder holding a broken sentence-splitter model.
Nothing of it may be read: the answer is the same as with the real data, with no warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUESTION = "What did Marie Curie discover, and who first found radioactivity?"


def rag(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from rag.cli import main; main()", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def ask(env: dict[str, str], cwd: Path) -> dict:
    result = rag(["ask", QUESTION, "--index", "sample", "--json"], env, cwd)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower(), result.stderr
    return json.loads(result.stdout)


def test_the_quick_start_reads_nothing_outside_the_package(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    decoy = tmp_path / "shared" / "data" / "nltk_data" / "tokenizers" / "punkt_tab" / "english"
    decoy.mkdir(parents=True)
    for name in ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab"):
        (decoy / name).write_text("not a punkt model\t\x00\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_SHARED_DATA", "NLTK_DATA", "RAG_ASQA")}
    env["RAG_INDEXES"] = str(tmp_path / "indexes")
    built = rag(
        ["index", str(REPO / "data" / "sample"), "--name", "sample"], env | {"RAG_SHARED_DATA": str(empty)}, project
    )
    assert built.returncode == 0, built.stderr
    assert "warning" not in built.stderr.lower()

    bare = ask(env | {"RAG_SHARED_DATA": str(empty), "NLTK_DATA": str(empty)}, project)
    assert bare["statements"] and bare["answer"].strip()

    real = REPO.parent / "shared" / "data"
    if not real.is_dir():
        pytest.skip("the comparison with the benchmark data needs ../shared/data")
    with_data = ask(env | {"RAG_SHARED_DATA": str(real), "NLTK_DATA": str(real / "nltk_data")}, REPO)
    assert with_data["answer"] == bare["answer"]
    assert [s["text"] for s in with_data["statements"]] == [s["text"] for s in bare["statements"]]
