"""Never lose a file: rag replaces (``--overwrite``, ``--add``, ``--update``) only a folder that
it wrote and that holds nothing else: a user's folder with a look-alike ``manifest.json`` is
refused in one line and left byte-identical; indexes built now carry the ``.rag-index`` marker,
indexes of an older rag (no marker) still load and are replaced only when they hold exactly the
files their manifest lists. And a file deleted while an index is built is skipped with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import pytest
from conftest import DOCS, fingerprint, one_error_line, write_docs
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import RagError
from rag.indexing import documents
from rag.indexing.layout import MANIFEST, MARKER, MARKER_FORMAT, marker_text
from rag.indexing.store import add_to_index, build_index, check_replaceable, load_index
from rag.indexing.update import update_index

runner = CliRunner()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    return write_docs(tmp_path / "docs", DOCS)


def _user_folder(root: Path, manifest: dict[str, object] | None = None) -> Path:
    """A user's folder: their files and a ``manifest.json`` of their own that looks like rag's."""
    folder = write_docs(root / "mine", {"notes.txt": "my notes", "thesis.md": "# Chapter 1\n\nmine"})
    (folder / "sub").mkdir()
    (folder / "sub" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    look_alike = manifest if manifest is not None else {"format_version": 1, "files": {}}
    (folder / MANIFEST).write_text(json.dumps(look_alike), encoding="utf-8")
    return folder


# ---------------------------------------------------------------- look-alikes are refused


def test_a_look_alike_manifest_is_refused_and_the_files_kept(tmp_path: Path, docs: Path) -> None:
    folder = _user_folder(tmp_path)
    before = fingerprint(folder)
    for args in (["--overwrite"], ["--add"], ["--update"]):
        result = runner.invoke(app, ["index", str(docs), "--name", str(folder), *args])
        assert result.exit_code == 1, (args, result.output)
        line = one_error_line(result.output)
        assert fingerprint(folder) == before, args
        assert line == (
            f"error: {folder} looks like a rag index, but it holds a file rag did not write, 'notes.txt': "
            "rag replaces only a folder it wrote, and leaves this one as it is; choose another --name"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "mine"]  # nothing written beside it either


def test_a_look_alike_listing_the_users_files_with_their_checksums_is_refused(tmp_path: Path, docs: Path) -> None:
    folder = _user_folder(tmp_path)
    files = {p.relative_to(folder).as_posix(): _sha(p) for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps({"format_version": 1, "files": files}), encoding="utf-8")
    before = fingerprint(folder)
    with pytest.raises(RagError, match="lists 'notes.txt', which rag never writes"):
        build_index([docs], folder, device="cpu", show_progress=False, overwrite=True)
    # nor does a marker that the user wrote for it help
    (folder / MARKER).write_text(marker_text((folder / MANIFEST).read_bytes()), encoding="utf-8")
    with pytest.raises(RagError, match="which rag never writes"):
        build_index([docs], folder, device="cpu", show_progress=False, overwrite=True)
    (folder / MARKER).unlink()
    assert fingerprint(folder) == before


def test_an_index_with_a_file_of_the_users_inside_is_not_replaced(index_copy: Path, docs: Path) -> None:
    (index_copy / "my-notes.txt").write_text("written into the index folder by hand")
    before = fingerprint(index_copy)
    with pytest.raises(RagError, match="it holds a file rag did not write, 'my-notes.txt'"):
        build_index([docs], index_copy, device="cpu", show_progress=False, overwrite=True)
    with pytest.raises(RagError, match="it holds a file rag did not write, 'my-notes.txt'"):
        add_to_index(index_copy, [write_docs(index_copy.parent / "more", {"ants.txt": "Ants farm fungus."})])
    with pytest.raises(RagError, match="it holds a file rag did not write, 'my-notes.txt'"):
        update_index(index_copy, [docs])
    assert fingerprint(index_copy) == before
    (index_copy / "my-notes.txt").unlink()
    (index_copy / "bm25" / "extra").mkdir()
    with pytest.raises(RagError, match="a folder rag did not write, 'bm25/extra'"):
        check_replaceable(index_copy)


@pytest.mark.parametrize("damage", ["marker", "manifest", "link"])
def test_a_marker_that_does_not_match_is_refused(index_copy: Path, tmp_path: Path, damage: str) -> None:
    if damage == "marker":
        (index_copy / MARKER).write_text(f"{MARKER_FORMAT}\nmanifest-sha256 {'0' * 64}\n")
    elif damage == "manifest":
        manifest = json.loads((index_copy / MANIFEST).read_text())
        manifest["rag_version"] = "edited"
        (index_copy / MANIFEST).write_text(json.dumps(manifest))
    else:
        (index_copy / "passages.jsonl").rename(tmp_path / "elsewhere.jsonl")
        (index_copy / "passages.jsonl").symlink_to(tmp_path / "elsewhere.jsonl")
    before = fingerprint(index_copy)
    with pytest.raises(RagError, match="looks like a rag index, but"):
        check_replaceable(index_copy)
    assert fingerprint(index_copy) == before


# ---------------------------------------------------------------- rag's own indexes


def test_a_build_writes_the_marker_and_its_index_is_replaced(index_copy: Path, docs: Path) -> None:
    marker = (index_copy / MARKER).read_text(encoding="utf-8")
    assert marker == f"{MARKER_FORMAT}\nmanifest-sha256 {_sha(index_copy / MANIFEST)}\n"
    assert MARKER not in json.loads((index_copy / MANIFEST).read_text())["files"]
    check_replaceable(index_copy)
    assert len(load_index(index_copy, device="cpu")) == 3
    # a damaged index of rag's (a file changed) is still its own: --overwrite rebuilds it
    (index_copy / "dense.json").write_text("{}")
    (index_copy / "bm25" / "vocab.index.json").unlink()
    check_replaceable(index_copy)
    index = build_index([docs / "bees.txt"], index_copy, device="cpu", show_progress=False, overwrite=True)
    assert len(index) == 1 and len(load_index(index_copy, device="cpu")) == 1
    assert (index_copy / MARKER).read_text() == marker_text((index_copy / MANIFEST).read_bytes())


def test_an_index_of_an_older_rag_loads_and_is_replaced_only_when_whole(index_copy: Path, docs: Path) -> None:
    (index_copy / MARKER).unlink()  # built before there was a marker
    assert len(load_index(index_copy, device="cpu")) == 3
    check_replaceable(index_copy)
    passages = index_copy / "passages.jsonl"
    passages.write_bytes(passages.read_bytes() + b"\n")  # no longer the file its manifest lists
    with pytest.raises(RagError, match="its file 'passages.jsonl' is not the one its manifest.json lists"):
        check_replaceable(index_copy)
    passages.write_bytes(passages.read_bytes()[:-1])
    (index_copy / "dense.json").unlink()
    with pytest.raises(RagError, match="its file 'dense.json' is missing"):
        check_replaceable(index_copy)
    shutil.rmtree(index_copy)
    build_index([docs], index_copy, device="cpu", show_progress=False)
    (index_copy / MARKER).unlink()
    rebuilt = build_index([docs / "tea.md"], index_copy, device="cpu", show_progress=False, overwrite=True)
    assert len(rebuilt) == 1 and (index_copy / MARKER).is_file()


# ---------------------------------------------------------------- a file that vanishes while an index is built


def test_a_file_deleted_during_a_build_is_skipped_with_a_warning(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The files are gathered, then ``coffee.md`` is deleted before it is read: the build warns
    and indexes the rest, through the API and the command line alike."""
    read = documents.read_file_bytes

    def racing(path: Path, limits: object) -> bytes:
        if path.name == "coffee.md" and path.exists():
            path.unlink()  # another process deletes it between gathering and reading
        return read(path, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(documents, "read_file_bytes", racing)
    with caplog.at_level(logging.WARNING, logger="rag"):
        index = build_index([docs], tmp_path / "index", device="cpu", show_progress=False)
    assert sorted(p.doc_id for p in index.passages) == ["bees.txt", "tea.md"]
    assert [str(s) for s in index.skipped] == [f"{docs / 'coffee.md'}: vanished before it could be read"]
    assert any("coffee.md: vanished before it could be read" in r.getMessage() for r in caplog.records)
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert [Path(s["path"]).name for s in manifest["sources"]] == ["bees.txt", "tea.md"]

    (docs / "coffee.md").write_text(DOCS["coffee.md"], encoding="utf-8")
    result = runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "2 passages, 1 input(s) skipped" in result.output
