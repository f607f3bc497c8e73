"""One clear line, never a traceback, for input that used to raise one: an embedder or generator
that is not a model, an index whose manifest names such an embedder, an index that cannot be
written (a virtual file system, a full disk: nothing changed), ``rag eval --data`` that is not
UTF-8 or holds wrong-typed fields or bad questions (refused before any model loads, leaving no
run); messages that say what is true; and ``rag ask`` never writing a control character to the
terminal, even from an index built before documents were cleaned of them.
"""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import DOCS, ScriptedGenerator, fingerprint, one_error_line, run_config, write_docs
from typer.testing import CliRunner

from rag.cli import app
from rag.cli.common import errors_as_exit
from rag.errors import RagError
from rag.evaluation.runner import run_benchmark
from rag.indexing import documents, readers
from rag.indexing.dense import DenseIndex

runner = CliRunner()
QUESTION = "Where was tea first drunk?"


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as the command line runs: no hub lookups that time out


@pytest.fixture
def not_models(tmp_path: Path) -> dict[str, str]:
    """Names that are not models: a name nothing knows, a text file, a fake ``.gguf``, a folder."""
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "fake.gguf").write_bytes(b"GGUF but not really")
    write_docs(tmp_path / "folder", {"a.txt": "not a model either"})
    return {
        "name": "no-such-model-anywhere",
        "file": str(tmp_path / "notes.txt"),
        "gguf": str(tmp_path / "fake.gguf"),
        "folder": str(tmp_path / "folder"),
    }


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".old")))


# ---------------------------------------------------------------- models that are not models


@pytest.mark.parametrize("kind", ["name", "file", "gguf", "folder"])
def test_an_embedder_that_is_not_a_model_is_one_line(tmp_path: Path, not_models: dict[str, str], kind: str) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    target = tmp_path / "idx"
    result = runner.invoke(app, ["index", str(docs), "--name", str(target), "--embedder", not_models[kind]])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: cannot load the embedder {not_models[kind]!r} (")
    assert line.endswith("a sentence-transformers folder, or a Hugging Face id (needs the internet)")
    assert not target.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["name", "file", "gguf", "folder"])
def test_a_generator_that_is_not_a_model_is_one_line(index_copy: Path, not_models: dict[str, str], kind: str) -> None:
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(index_copy), "--generator", not_models[kind]])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: cannot load the generator {not_models[kind]!r} (")
    assert "give a packaged name (see `rag models`), a GGUF file" in line


@pytest.mark.parametrize("kind", ["name", "file", "folder"])
def test_a_manifest_naming_an_embedder_that_does_not_load_is_one_line(
    index_copy: Path, not_models: dict[str, str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["embedder"]["name"] = not_models[kind] if kind != "name" else "someone/some-embedder"
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr("rag.pipeline._primed_generator", lambda *a: ScriptedGenerator("Tea is from China [1]."))
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(index_copy)])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: the index at {index_copy} was built with the embedder ")
    assert "which cannot be loaded (" in line and line.endswith("with an embedder that loads")


# ---------------------------------------------------------------- where an index cannot be written


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("name", ["/proc/rag-test-index", "/proc/self/rag-test-index"])
def test_an_index_on_a_filesystem_that_refuses_writes_is_one_line(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_embedder(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedder was loaded before the target was checked")

    monkeypatch.setattr("rag.indexing.store.Embedder", no_embedder)
    docs = write_docs(tmp_path / "docs", DOCS)
    result = runner.invoke(app, ["index", str(docs), "--name", name])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: cannot write the index at {name} (") and line.endswith("): nothing was changed")


@pytest.mark.parametrize("existing", [True, False])
def test_a_full_disk_changes_nothing(
    index_copy: Path, tmp_path: Path, existing: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: DenseIndex, folder: Path) -> None:
        (folder / "dense.faiss").write_bytes(b"half written")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "dense.faiss"))

    monkeypatch.setattr(DenseIndex, "save", disk_full)
    target = index_copy if existing else index_copy.parent / "new"
    before = fingerprint(index_copy)
    docs = write_docs(tmp_path / "docs", {"bees.txt": DOCS["bees.txt"]})
    result = runner.invoke(app, ["index", str(docs), "--name", str(target), "--overwrite"])
    assert result.exit_code == 1
    assert one_error_line(result.output) == (
        f"error: the disk is full: the index at {target} could not be written, and nothing was changed; free some space"
    )
    assert fingerprint(index_copy) == before
    assert target.exists() == existing and _leftovers(index_copy.parent) == []


def test_a_full_disk_anywhere_else_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as done, errors_as_exit():
        raise OSError(errno.ENOSPC, "No space left on device", "results/run/outputs.jsonl")
    assert done.value.exit_code == 1
    err = capsys.readouterr().err
    assert one_error_line(err) == (
        "error: No space left on device writing results/run/outputs.jsonl: free some space, or write somewhere else"
    )
    with pytest.raises(OSError, match="bad descriptor"), errors_as_exit():  # any other OSError is a bug
        raise OSError(errno.EBADF, "bad descriptor")


# ---------------------------------------------------------------- rag eval --data


def _item(**fields: Any) -> dict[str, Any]:
    item = {
        "id": "q1",
        "question": "Who wrote it?",
        "qa_pairs": [{"question": "Who wrote it?", "short_answers": ["Ann"]}],
        "annotations": [{"long_answer": "Ann wrote it.", "knowledge": []}],
        "docs": [{"title": "Ann", "text": "Ann wrote it."}],
    }
    return item | fields


EVAL_DATA: list[tuple[str, bytes, str]] = [
    ("binary", bytes(range(256)) * 8, "is not UTF-8 text (byte 128)"),
    ("latin-1", json.dumps([_item(question="Caf\u00e9?")], ensure_ascii=False).encode("latin-1"), "is not UTF-8 text"),
    (
        "knowledge",
        json.dumps([_item(annotations=[{"long_answer": "x", "knowledge": 5}])]).encode(),
        "'knowledge' must be a list of JSON objects, got 5",
    ),
    ("question type", json.dumps([_item(question=7)]).encode(), "item 0: the question must be a string, got int"),
    ("empty question", json.dumps([_item(), _item(id="q2", question="  ")]).encode(), "item 1: the question is empty"),
    (
        "long question",
        json.dumps([_item(question="x" * 2001)]).encode(),
        "the question is 2001 characters long; at most 2000",
    ),
    ("deep", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("data", "message"), [(d, m) for _, d, m in EVAL_DATA], ids=[n for n, _, _ in EVAL_DATA])
def test_bad_eval_data_is_one_line_before_any_model_and_leaves_no_run(
    tmp_path: Path, data: bytes, message: str, no_models: None
) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(data)
    results = tmp_path / "results"
    args = ["eval", "--data", str(path), "--results-dir", str(results), "--run", "r", "--docs-from-file"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in one_error_line(result.output)
    assert not results.exists()


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_a_run_refused_for_its_questions_leaves_no_run_folder(tmp_path: Path, question: str, factory: Any) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps([_item(), _item(id="q2", question=question)]))
    run_dir = tmp_path / "results" / "run"
    with pytest.raises(RagError, match="item 1: the question"):
        run_benchmark(run_config(data=str(path), limit=None), run_dir, pipeline_factory=factory(), progress=False)
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------- words that say what is true


def test_an_unsupported_file_is_not_said_to_contain_no_text(tmp_path: Path) -> None:
    (tmp_path / "slides.key").write_bytes(b"PK\x03\x04 a keynote file")
    result = runner.invoke(app, ["index", str(tmp_path / "slides.key"), "--name", str(tmp_path / "idx")])
    line = one_error_line(result.output)
    assert "contain no text" not in line and "unsupported file type '.key'" in line
    assert line.startswith(
        f"error: no passages to index from {tmp_path / 'slides.key'}: no text could be read; 1 input"
    )
    (tmp_path / "empty.txt").write_text("  \n")
    result = runner.invoke(app, ["index", str(tmp_path / "empty.txt"), "--name", str(tmp_path / "idx")])
    assert "contain no text" in one_error_line(result.output)


def test_rag_never_tells_a_user_to_remove_their_own_folder(tmp_path: Path) -> None:
    mine = write_docs(tmp_path / "mine", {"notes.txt": "my notes"})
    before = fingerprint(mine)
    for args in (["ask", QUESTION, "--index", str(mine)], ["index", str(mine), "--name", str(mine), "--add"]):
        line = one_error_line(runner.invoke(app, args).output)
        assert "yourself" not in line and "remove" not in line and "another name" in line, line
    (mine / "manifest.json").write_text("{not json")
    line = one_error_line(runner.invoke(app, ["ask", QUESTION, "--index", str(mine)]).output)
    assert "is corrupted" in line and "yourself" not in line and "remove" not in line
    (mine / "manifest.json").unlink()
    assert fingerprint(mine) == before


# ---------------------------------------------------------------- escape sequences never reach the terminal

ESCAPES = "\x1b]0;PWNED\x07"  # retitles the terminal window
CLEAR = "\x1b[2J"  # clears the screen
ANSWER = f"Tea was first drunk in China{CLEAR}{ESCAPES} [1]. It came from\x9b31m Shennong [1]."


def _assert_clean(output: str) -> None:
    for byte in ("\x1b", "\x07", "\x9b"):
        assert byte not in output, repr(output)


def _ask(index: Path, monkeypatch: pytest.MonkeyPatch, rule_judge: Any, *extra: str) -> str:
    monkeypatch.setattr("rag.pipeline._primed_generator", lambda *a: ScriptedGenerator(ANSWER))
    monkeypatch.setattr("rag.pipeline.load_judge", lambda name: rule_judge("keywords"))
    result = runner.invoke(app, ["ask", QUESTION, "--index", str(index), *extra])
    assert result.exit_code == 0, result.output
    return result.output


MODEL_CITES = ["--set", "prompt=default", "--set", "cite=model", "--set", "hide_unsupported=false"]


@pytest.mark.parametrize(
    "extra",
    [[], MODEL_CITES, [*MODEL_CITES, "--json"]],
    ids=["rendered", "streamed", "json"],
)
def test_escapes_in_documents_never_reach_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rule_judge: Any, extra: list[str]
) -> None:
    """A document and the model's answer holding escape sequences: indexed by this rag (the
    readers drop them) and by an older one (the passages keep them), ``rag ask`` prints none."""
    docs = write_docs(
        tmp_path / "docs",
        {
            "tea.md": f"# Tea{ESCAPES}\n\nTea was first drunk in China{CLEAR}, where legend credits Shennong.\n",
            "coffee.md": DOCS["coffee.md"],
        },
    )
    assert runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "new")]).exit_code == 0
    with monkeypatch.context() as old_rag:  # an index built before documents were cleaned
        old_rag.setattr(readers, "clean_text", lambda text: text)
        old_rag.setattr(documents, "clean_text", lambda text: text)
        assert runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "old")]).exit_code == 0
    assert "\\u001b]0;PWNED\\u0007" in (tmp_path / "old" / "passages.jsonl").read_text()
    assert "\\u001b" not in (tmp_path / "new" / "passages.jsonl").read_text()
    for index in ("new", "old"):
        output = _ask(tmp_path / index, monkeypatch, rule_judge, *extra)
        _assert_clean(output)
        assert "Tea was first drunk in China" in output
        if "--json" in extra:
            answer = json.loads(output)
            assert CLEAR in answer["answer"]  # kept, but escaped in the JSON text
            assert "\\u001b[2J" in output and "\\u009b31m" in output
        else:
            assert "PWNED" not in output and "Sources:" in output


# ---------------------------------------------------------------- the per-file size limit


def test_a_file_over_max_file_mb_is_one_warning_and_the_limit_can_be_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 2.4 kB file under ``--max-file-mb 0.002`` is skipped with one warning naming its size and
    the option; the other files are indexed. Raised to 0.01, the same file is indexed. A limit of
    0 is one error line. (The limit is in MB of 10^6 bytes; fractions make the test small.)"""
    docs = write_docs(tmp_path / "docs", DOCS)
    notes = " ".join(f"Note {i}: tea and coffee were traded along route {i}." for i in range(48))
    (docs / "big.txt").write_text(notes, encoding="utf-8")
    assert 2_000 < (docs / "big.txt").stat().st_size < 10_000
    with caplog.at_level("WARNING"):
        small = runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "ix"), "--max-file-mb", "0.002"])
    assert small.exit_code == 0, small.output
    assert "1 input(s) skipped" in small.output
    warnings = [r.getMessage() for r in caplog.records if "big.txt" in r.getMessage()]
    assert len(warnings) == 1
    said = r"big\.txt: is 0\.00\d+ MB, over the limit of 0\.002 MB: raise it with --max-file-mb$"
    assert re.search(said, warnings[0]), warnings
    sources = json.loads((tmp_path / "ix" / "manifest.json").read_text())["sources"]
    assert sorted(Path(s["path"]).name for s in sources) == ["bees.txt", "coffee.md", "tea.md"]
    raised = runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "ix2"), "--max-file-mb", "0.01"])
    assert raised.exit_code == 0, raised.output
    sources = json.loads((tmp_path / "ix2" / "manifest.json").read_text())["sources"]
    assert "big.txt" in {Path(s["path"]).name for s in sources}
    zero = runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "ix3"), "--max-file-mb", "0"])
    assert zero.exit_code != 0
    assert "--max-file-mb must be positive" in one_error_line(zero.output)
