"""rag.indexing.store: the index directory with the real packaged embedder: build, load, checks,
add; a folder that is not an index never replaced, and a damaged index refused in one line (the
locks and the recovery of a killed write are tests/indexing/test_layout.py's)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import fingerprint, one_error_line, rag, rewrite_manifest, write_docs
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import RagError
from rag.indexing.chunking import index_text
from rag.indexing.index import IndexConfig
from rag.indexing.layout import FORMAT_VERSION
from rag.indexing.store import add_to_index, build_index, load_index

runner = CliRunner()

DOCS_A = {
    "paris.md": "# Eiffel Tower\nThe Eiffel Tower in Paris was completed in 1889 for the World's Fair.",
    "photo.txt": "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen in plants.",
    "python.md": "# Python\nPython is a programming language created by Guido van Rossum in 1991.",
}
DOCS_B = {
    "moon.txt": "The Moon is Earth's only natural satellite; Apollo 11 landed there in July 1969.",
    "volcano.md": "# Volcanoes\nMount Vesuvius erupted in 79 AD and buried the Roman town of Pompeii.",
}
QUERIES = [
    "When was the Eiffel Tower finished?",
    "how do plants make sugar",
    "Moon landing Apollo",
    "Pompeii eruption",
    "who created Python",
]


def results(index) -> tuple[list, list]:
    vectors = index.embedder.encode_queries(QUERIES)
    bm25 = [[(index.passages[h.row].id, round(h.score, 5)) for h in hs] for hs in index.bm25.search_many(QUERIES, 4)]
    dense = [[(index.passages[h.row].id, h.score) for h in hs] for hs in index.dense.search(vectors, 4)]
    return bm25, dense


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("idx")
    corpus = write_docs(root / "a", DOCS_A)
    index = build_index([corpus], root / "index", device="cpu", show_progress=False)
    return root, index


def test_build_then_load_gives_same_results(built) -> None:
    root, index = built
    assert len(index) == 3 and index.dense.kind == "flat"
    expected = results(index)
    for mmap in (False, True):
        loaded = load_index(root / "index", mmap=mmap, device="cpu")
        assert loaded.passages == index.passages
        bm25, dense = results(loaded)
        assert bm25 == expected[0]
        # the build embedded with torch, a loaded index embeds questions in numpy (fp32): same
        # ranking, scores equal to float32 rounding; on a CPU with bf16 the build's torch model ran
        # under bf16 autocast (questions included), which rounds to about 3 significant digits
        assert [[pid for pid, _ in hs] for hs in dense] == [[pid for pid, _ in hs] for hs in expected[1]]
        got = np.array([[sc for _, sc in hs] for hs in dense])
        atol = 5e-3 if index.embedder.precision == "bf16" else 1e-5
        np.testing.assert_allclose(got, [[sc for _, sc in hs] for hs in expected[1]], atol=atol)
    bm25, dense = expected
    assert bm25[0][0][0] == "paris.md" and dense[0][0][0] == "paris.md"
    assert dense[1][0][0] == "photo.txt"


def test_manifest_contents(built) -> None:
    root, index = built
    m = json.loads((root / "index" / "manifest.json").read_text())
    assert m["format_version"] == FORMAT_VERSION
    assert m["embedder"] == {"name": "all-MiniLM-L6-v2", "dimension": 384, "max_seq_length": 256}
    assert m["metric"] == "inner_product" and m["passage_count"] == 3
    assert m["chunking"] == {"chunk_size": 200, "chunk_overlap": 32}
    assert m["bm25"]["method"] == "lucene" and m["dense"]["kind"] == "flat"
    assert [Path(s["path"]).name for s in m["sources"]] == sorted(DOCS_A)
    assert all(len(s["sha256"]) == 64 for s in m["sources"])
    assert {"passages.jsonl", "dense.faiss", "dense.json", "bm25/data.csc.index.npy"} <= set(m["files"])
    assert IndexConfig.from_manifest(m) == IndexConfig()
    assert m["skipped"] == []
    hidden = sorted(p.name for p in root.iterdir() if p.name.startswith("."))
    assert hidden == [".index.lock", ".index.swap.lock"]  # the lock files; no temporary dirs left


@pytest.fixture
def copy(built, tmp_path) -> Path:
    root, _ = built
    dest = tmp_path / "copy"
    shutil.copytree(root / "index", dest)
    return dest


def test_missing_directory_and_manifest(tmp_path, copy) -> None:
    with pytest.raises(FileNotFoundError, match="no index at .*nowhere: build one with"):
        load_index(tmp_path / "nowhere")
    (copy / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json is missing"):
        load_index(copy)


def test_missing_file(copy) -> None:
    (copy / "dense.faiss").unlink()
    with pytest.raises(FileNotFoundError, match="missing its file dense.faiss.*rebuild"):
        load_index(copy)


@pytest.mark.parametrize("name", ["passages.jsonl", "dense.faiss", "bm25/data.csc.index.npy"])
def test_corrupted_file(copy, name: str) -> None:
    data = bytearray((copy / name).read_bytes())
    data[-5] ^= 0xFF
    (copy / name).write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"{name.split('/')[-1]} is corrupted.*sha256.*rebuild"):
        load_index(copy)


def test_other_format_version(copy) -> None:
    m = json.loads((copy / "manifest.json").read_text())
    m["format_version"] = FORMAT_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(
        ValueError, match=f"format version {FORMAT_VERSION + 1}.*reads format version {FORMAT_VERSION}.*rebuild"
    ):
        load_index(copy)


def test_empty_corpus_and_failed_build_leave_nothing(tmp_path, copy) -> None:
    empty = write_docs(tmp_path / "empty", {"blank.txt": "   \n", "e.jsonl": ""})
    with pytest.raises(ValueError, match="no passages to index"):
        build_index([empty], tmp_path / "new", device="cpu", show_progress=False)
    assert not (tmp_path / "new").exists()
    before = (copy / "manifest.json").read_text()
    with pytest.raises(ValueError, match="no passages"):
        build_index([empty], copy, device="cpu", show_progress=False, overwrite=True)
    assert (copy / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "empty"]
    with pytest.raises(ValueError, match="already exists.*overwrite"):
        build_index([empty], copy, device="cpu")
    (tmp_path / "x.xyz").write_text("?")  # a type no reader reads
    with pytest.raises(ValueError, match="no passages to index.*1 input.*skipped.*unsupported file type '.xyz'"):
        build_index([tmp_path / "x.xyz"], tmp_path / "new", device="cpu")
    assert not (tmp_path / "new").exists()


def test_add_equals_full_rebuild(built, tmp_path) -> None:
    root, _ = built
    a, b = root / "a", write_docs(tmp_path / "b", DOCS_B)
    grown = tmp_path / "grown"
    build_index([a], grown, device="cpu", show_progress=False)
    added = add_to_index(grown, [b], device="cpu", show_progress=False)
    full = build_index([a, b], tmp_path / "full", device="cpu", show_progress=False)
    assert [p.id for p in added.passages] == [p.id for p in full.passages]
    reloaded = load_index(grown, device="cpu")
    for index in (added, reloaded):
        (bm25_a, dense_a), (bm25_f, dense_f) = results(index), results(full)
        assert bm25_a == bm25_f
        assert [[i for i, _ in hs] for hs in dense_a] == [[i for i, _ in hs] for hs in dense_f]
        np.testing.assert_allclose(
            [[s for _, s in hs] for hs in dense_a], [[s for _, s in hs] for hs in dense_f], atol=1e-2
        )
    m = reloaded.manifest
    assert m["passage_count"] == 5 and m["document_count"] == 5 and len(m["sources"]) == 5
    with pytest.raises(ValueError, match="already in the index"):
        add_to_index(grown, [b / "moon.txt"], device="cpu", show_progress=False)


def test_long_documents_split_within_token_limit(tmp_path) -> None:
    long_text = " ".join(f"Sentence number {i} talks about topic {i % 13} at length." for i in range(400))
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"id": "big", "title": "Big", "text": long_text})
        + "\n"
        + json.dumps({"id": "small", "text": "tiny"})
        + "\n",
        encoding="utf-8",
    )
    index = build_index([corpus], tmp_path / "ix", device="cpu", show_progress=False)
    ids = [p.id for p in index.passages]
    assert ids[-1] == "small" and ids[0] == "big#0" and len(ids) > 10
    tok = index.embedder.tokenizer
    lengths = [len(tok(index_text(p), verbose=False)["input_ids"]) for p in index.passages]
    assert max(lengths) <= index.embedder.max_seq_length


# ---------------------------------------------------------------- data loss


def test_overwrite_never_deletes_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    # the reported case: `rag index docs --name docs --overwrite` in the folder that holds docs/
    docs = write_docs(tmp_path / "docs", {"a.txt": "hi, these are my own notes about honeybees"})
    before = fingerprint(docs)
    done = rag("index", "docs", "--name", "docs", "--overwrite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert fingerprint(docs) == before  # a bare name means indexes/docs, never ./docs
    assert (tmp_path / "indexes" / "docs" / "manifest.json").is_file()
    # named as a path, the folder is refused, not replaced
    refused = rag("index", "docs", "--name", "./docs", "--overwrite", cwd=tmp_path)
    assert refused.returncode == 1
    line = one_error_line(refused.stderr)
    assert line == (
        "error: docs exists and is not a rag index (a folder without manifest.json): rag never replaces it; "
        "choose another --name"
    )
    assert fingerprint(docs) == before
    # nor is a file, nor a folder given to --add
    (tmp_path / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["index", str(docs), "--name", str(tmp_path / "notes.txt"), "--overwrite"])
    assert result.exit_code == 1 and "is not a rag index (a file without manifest.json)" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
    result = runner.invoke(app, ["index", str(docs), "--name", str(docs), "--add"])
    assert result.exit_code == 1 and "rag never replaces such a folder" in result.output
    assert fingerprint(docs) == before


def test_rebuild_hints_name_an_index_given_as_a_path(index_copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "some" / "where"
    shutil.copytree(index_copy, elsewhere)
    (elsewhere / "passages.jsonl").write_text("changed\n")
    with pytest.raises(RagError, match=f"--name {elsewhere} --overwrite"):
        load_index(elsewhere, device="cpu")


# ---------------------------------------------------------------- damaged indexes


def test_a_manifest_with_an_unknown_setting_is_one_line(index_copy: Path, tmp_path: Path) -> None:
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["chunking"]["stride"] = 3  # written by a rag that knows a setting this one does not
    rewrite_manifest(index_copy, manifest)
    before = fingerprint(index_copy)
    (tmp_path / "x.txt").write_text("Ants farm fungus.")
    result = runner.invoke(app, ["index", str(tmp_path / "x.txt"), "--add", "--name", str(index_copy)])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert "manifest.json: the manifest holds settings this rag cannot read" in line
    assert f"--name {index_copy} --overwrite" in line
    assert fingerprint(index_copy) == before


def test_a_truncated_faiss_file_with_a_matching_checksum_is_one_line(index_copy: Path) -> None:
    faiss_file = index_copy / "dense.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["files"]["dense.faiss"] = hashlib.sha256(faiss_file.read_bytes()).hexdigest()
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["ask", "Where was tea first drunk?", "--index", str(index_copy)])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: the dense index in {index_copy} cannot be read (")
    assert line.endswith(f"rebuild it with `rag index PATH... --name {index_copy} --overwrite`")
