"""The index directory with the real packaged embedder: build, load, checks, add."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.indexing.documents import index_text
from rag.indexing.store import FORMAT_VERSION, IndexConfig, add_to_index, build_index, load_index, resolve_index_path

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


def write(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def results(index) -> tuple[list, list]:
    vectors = index.embedder.encode_queries(QUERIES)
    bm25 = [[(index.passages[h.row].id, round(h.score, 5)) for h in hs] for hs in index.bm25.search_many(QUERIES, 4)]
    dense = [[(index.passages[h.row].id, h.score) for h in hs] for hs in index.dense.search(vectors, 4)]
    return bm25, dense


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("idx")
    corpus = write(root / "a", DOCS_A)
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
    empty = write(tmp_path / "empty", {"blank.txt": "   \n", "e.jsonl": ""})
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
    (tmp_path / "x.docx").write_text("?")
    with pytest.raises(ValueError, match="no passages to index.*1 input.*skipped.*unsupported file type '.docx'"):
        build_index([tmp_path / "x.docx"], tmp_path / "new", device="cpu")
    assert not (tmp_path / "new").exists()


def test_add_equals_full_rebuild(built, tmp_path) -> None:
    root, _ = built
    a, b = root / "a", write(tmp_path / "b", DOCS_B)
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
