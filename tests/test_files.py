"""rag.files: slugs, checksums and the JSONL readers (torn last lines, corrupt lines, encodings)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from conftest import run_doctests

from rag.errors import MissingFileError, RagError
from rag.files import append_record, iter_jsonl, read_records, sha256_file, slug


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (("llm:qwen2.5-1.5b",), {}, "llm-qwen2.5-1.5b"),
        (("llm:qwen2.5-1.5b",), {"sep": "_"}, "llm_qwen2.5-1.5b"),
        (("rag/qwen2.5-0.5b",), {}, "rag-qwen2.5-0.5b"),
        (("nli:cross-encoder/nli-deberta-v3-base",), {"sep": "_"}, "nli_cross-encoder_nli-deberta-v3-base"),
        (("nli:cross-encoder/nli-deberta-v3-base",), {"sep": "_", "limit": 9}, "nli_cross"),
        (("  a b!  ",), {}, "a-b"),  # leading and trailing separators dropped
        (("under_score.dot-dash",), {}, "under_score.dot-dash"),  # kept as they are
        (("Café",), {}, "Café"),  # letters of any script are letters
        (("::",), {}, "judge"),  # nothing left: the default
        (("",), {"default": "x"}, "x"),
        (("abcdef",), {"limit": 3}, "abc"),
    ],
)
def test_slug(args: tuple[str], kwargs: dict, expected: str) -> None:
    assert slug(*args, **kwargs) == expected


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000 + b"tail"  # 2.4 MiB: more than one 1 MiB block
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(str(path)) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# ---------------------------------------------------------------- read_records

GOOD = '{"id": 1}\n\n{"id": 2}\n'
TORN = '{"id": 3, "sys'


def test_read_records_drops_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "outputs.jsonl"
    path.write_text(GOOD + TORN, encoding="utf-8")
    assert read_records(path) == [{"id": 1}, {"id": 2}]
    assert path.read_text(encoding="utf-8") == GOOD + TORN  # left as it is without repair


def test_read_records_repair_truncates_the_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "outputs.jsonl"
    path.write_text(GOOD + TORN, encoding="utf-8")
    assert read_records(path, repair=True) == [{"id": 1}, {"id": 2}]
    assert path.read_text(encoding="utf-8") == GOOD
    # the next append starts on a fresh line
    with path.open("a", encoding="utf-8") as f:
        append_record(f, {"id": 3, "text": "é"})
    assert read_records(path) == [{"id": 1}, {"id": 2}, {"id": 3, "text": "é"}]
    assert path.read_text(encoding="utf-8").endswith('{"id": 3, "text": "é"}\n')


def test_read_records_of_a_whole_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "outputs.jsonl"
    path.write_text(GOOD, encoding="utf-8")
    assert read_records(path, repair=True) == [{"id": 1}, {"id": 2}]
    assert path.read_text(encoding="utf-8") == GOOD
    assert read_records(tmp_path / "absent.jsonl") == []


def test_read_records_rejects_a_corrupt_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "outputs.jsonl"
    path.write_text('{"id": 1}\nnot json\n{"id": 2}\n', encoding="utf-8")
    with pytest.raises(RagError, match=r"outputs\.jsonl line 2 is not JSON"):
        read_records(path)
    with pytest.raises(RagError, match="line 2"):
        read_records(path, repair=True)
    assert path.read_text(encoding="utf-8") == '{"id": 1}\nnot json\n{"id": 2}\n'  # nothing cut


def test_read_records_of_a_non_utf8_file_is_a_rag_error(tmp_path: Path) -> None:
    path = tmp_path / "outputs.jsonl"
    path.write_bytes(b'{"id": 1}\n{"id": "\xff"}\n')
    with pytest.raises(RagError):
        read_records(path)


# ---------------------------------------------------------------- iter_jsonl


def test_iter_jsonl_numbers_lines_and_skips_blank_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n  \n[2, 3]\n"s"\n', encoding="utf-8")
    assert list(iter_jsonl(path)) == [(1, {"a": 1}), (4, [2, 3]), (5, "s")]


def test_iter_jsonl_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n{"c": \n{"d": 4}\n', encoding="utf-8")
    with pytest.raises(RagError, match=re.escape(f"{path}:3: not valid JSON")) as err:
        list(iter_jsonl(path, hint="one object per line"))
    assert str(err.value).endswith("; one object per line")
    assert isinstance(err.value.__cause__, json.JSONDecodeError)


def test_iter_jsonl_skip_bad_skips_without_error(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    path.write_text('{"a": 1}\n{"torn": \n{"b": 2}\n{"c"', encoding="utf-8")
    assert list(iter_jsonl(path, skip_bad=True)) == [(1, {"a": 1}), (3, {"b": 2})]


def test_iter_jsonl_non_utf8_is_a_rag_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"a": "café"}\n'.encode("latin-1"))
    with pytest.raises(RagError, match=re.escape(f"{path}:1: not valid UTF-8")):
        list(iter_jsonl(path))
    # a cache read with skip_bad replaces the bad bytes instead
    assert list(iter_jsonl(path, skip_bad=True)) == [(1, {"a": "caf\ufffd"})]


def test_iter_jsonl_non_utf8_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    with pytest.raises(RagError, match=re.escape(f"{path}:2: not valid UTF-8")):
        list(iter_jsonl(path))


def test_iter_jsonl_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="not found"):
        list(iter_jsonl(tmp_path / "absent.jsonl"))


def test_the_module_examples_hold() -> None:

    import rag.files

    run_doctests(rag.files)
