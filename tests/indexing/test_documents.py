"""rag.indexing.documents: reading .txt/.md/.jsonl, chunking in embedder tokens, and bad documents
skipped, named and counted (through `rag index`)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import one_error_line, rag, write_docs
from typer.testing import CliRunner

from rag.cli import app
from rag.indexing.documents import (
    SUPPORTED_SUFFIXES,
    ChunkConfig,
    list_source_files,
    load_documents,
    load_file,
    read_documents,
)
from rag.indexing.store import load_index


def test_load_folder_of_all_types(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Plain text here.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("intro\n# The Heading\nBody.", encoding="utf-8")
    (tmp_path / "c.md").write_text("No heading at all.", encoding="utf-8")
    (tmp_path / "skip.xyz").write_bytes(b"%PDF")  # a type no reader reads
    (tmp_path / ".hidden.txt").write_text("hidden", encoding="utf-8")
    lines = [
        {"id": "x1", "title": "T1", "text": "First.", "source": "wiki", "extra": 3},
        {"title": "T2", "text": "Second."},
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n\n", encoding="utf-8")
    docs = load_documents([tmp_path])
    by_id = {d.id: d for d in docs}
    assert [d.id for d in docs] == ["a.txt", "c.md", "x1", "d:2", "sub/b.md"]
    a = by_id["a.txt"]
    assert (a.id, a.text, a.title, a.source) == ("a.txt", "Plain text here.", "a", str(tmp_path / "a.txt"))
    assert by_id["sub/b.md"].title == "The Heading"
    assert by_id["c.md"].title == "c"
    assert by_id["x1"].source == "wiki" and by_id["x1"].title == "T1"
    assert by_id["d:2"].source == str(tmp_path / "d.jsonl")
    assert len(list_source_files([tmp_path])) == 4


def test_single_file_id_is_its_name(tmp_path) -> None:
    f = tmp_path / "note.txt"
    f.write_text("hello", encoding="utf-8")
    assert load_documents([f])[0].id == "note.txt"
    assert load_documents(f)[0].text == "hello"


@pytest.mark.parametrize(
    "line,match",
    [
        ("{not json", r"bad\.jsonl:2: not valid JSON"),
        ('{"title": "no text"}', r"bad\.jsonl:2: missing or non-string 'text'"),
        ('["a list"]', r"bad\.jsonl:2: expected a JSON object"),
    ],
)
def test_bad_jsonl_lines_are_skipped_with_file_and_line(tmp_path, line: str, match: str) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"text": "ok"}\n' + line + "\n", encoding="utf-8")
    loaded = read_documents([f])
    assert [d.text for d in loaded.documents] == ["ok"]
    assert loaded.files == [f]
    [skipped] = loaded.skipped
    assert re.search(match, str(skipped))
    with pytest.raises(ValueError, match=match):  # one file read on its own still says what is wrong
        load_file(f)


def test_bad_paths(tmp_path) -> None:
    other = tmp_path / "x.xyz"  # a type no reader reads
    other.write_bytes(b"%PDF")
    loaded = read_documents([other])
    assert loaded.documents == [] and loaded.files == []
    supported = ", ".join(SUPPORTED_SUFFIXES)
    assert [str(s) for s in loaded.skipped] == [f"{other}: unsupported file type '.xyz': supported are {supported}"]
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_documents([tmp_path / "missing"])
    with pytest.raises(ValueError, match="holds no"):
        load_documents([tmp_path])
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "1", "text": "a"}\n{"id": "1", "text": "b"}\n', encoding="utf-8")
    loaded = read_documents([dup])
    assert [d.text for d in loaded.documents] == ["a"]
    assert [str(s) for s in loaded.skipped] == [f"{dup} (1): duplicate document id (first seen in {dup})"]


def test_chunk_config_validation() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        ChunkConfig(chunk_size=50, chunk_overlap=50)
    with pytest.raises(ValueError, match="chunk_size"):
        ChunkConfig(chunk_size=4)


def test_markdown_heading_becomes_title_not_text(tmp_path) -> None:
    (tmp_path / "a.md").write_text("\n# Tea\n\nTea came from China.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("Intro line.\n# Later heading\nMore.\n", encoding="utf-8")
    docs = {d.id: d for d in load_documents([tmp_path])}
    assert docs["a.md"].title == "Tea"
    assert docs["a.md"].text == "Tea came from China."
    # a heading that does not open the file names it, and is a heading block: the passages after
    # it are its section, the text before it has none
    assert docs["b.md"].title == "Later heading"
    assert docs["b.md"].text == "Intro line.\nMore."
    blocks = docs["b.md"].blocks or ()
    assert [(b.kind, b.text) for b in blocks] == [
        ("text", "Intro line."),
        ("heading", "Later heading"),
        ("text", "More."),
    ]


runner = CliRunner()

# ---------------------------------------------------------------- bad documents through `rag index`


def test_bad_documents_are_skipped_named_and_counted(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", {"good.txt": "Honeybees dance to show where flowers are."})
    (docs / "copy.txt").write_bytes((docs / "good.txt").read_bytes())  # the same content again
    (docs / "zeros.txt").write_bytes(b"\x00" * 64)
    (docs / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    os.mkfifo(docs / "pipe.txt")  # reading it would block for ever
    with open(os.fsencode(docs) + b"/name\xff.txt", "wb") as fh:
        fh.write(b"A file whose name is not UTF-8.")
    lines = [
        json.dumps({"id": "long", "title": "word " * 400, "text": "Ants farm fungus in their nests."}),
        "{not json",
        json.dumps({"id": "n", "text": 5}),
        json.dumps(["a list"]),
        json.dumps({"id": "long", "text": "the same id again"}),
        json.dumps({"id": "empty", "text": "   "}),
    ]
    (docs / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = rag("index", "docs", "--name", "docs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    warnings = sorted(line for line in done.stderr.splitlines() if line.startswith("warning: skipped"))
    expected = [
        "docs/c.jsonl (empty): no text",
        "docs/c.jsonl (long): duplicate document id (first seen in docs/c.jsonl)",
        "docs/c.jsonl:2: not valid JSON",
        "docs/c.jsonl:3: missing or non-string 'text' field",
        "docs/c.jsonl:4: expected a JSON object with a 'text' field, got list",
        "docs/good.txt: same content as docs/copy.txt, which is indexed already",
        "docs/latin1.txt: not valid UTF-8 text (byte 3)",
        "docs/name\\xff.txt: the file name is not valid UTF-8: rename the file",
        "docs/pipe.txt: not a regular file",
        "docs/zeros.txt: contains NUL bytes: a binary file, not text",
    ]
    assert len(warnings) == len(expected), done.stderr
    for line, start in zip(warnings, sorted(expected), strict=True):
        assert line.startswith(f"warning: skipped {start}"), (line, start)
    assert f"{len(expected)} input(s) skipped" in done.stdout
    index = load_index(tmp_path / "indexes" / "docs", device="cpu")
    assert sorted(p.id for p in index.passages) == ["copy.txt", "long"]
    assert len(index.manifest["skipped"]) == len(expected)
    # the long title is shortened for the passage, not fatal
    [long] = [p for p in index.passages if p.id == "long"]
    assert long.title.endswith(" …") and long.text == "Ants farm fungus in their nests."
    assert len(index.embedder.tokenizer(long.title, add_special_tokens=False)["input_ids"]) <= 200 // 4
    # --strict: the first skip is an error and nothing is written
    strict = rag("index", "docs", "--name", "strict", "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    line = one_error_line(strict.stderr)
    assert line.startswith("error: --strict: ") and line.endswith("and 9 more would be skipped; nothing was written")
    assert not (tmp_path / "indexes" / "strict").exists()


def test_nothing_but_bad_documents_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "zeros.txt").write_bytes(b"\x00\x00")
    result = runner.invoke(app, ["index", str(tmp_path / "zeros.txt"), "--name", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert "no passages to index" in one_error_line(result.output)
    assert "contains NUL bytes" in result.output
    assert not (tmp_path / "ix").exists()
