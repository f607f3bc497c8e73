"""Hostile-but-fair input, one test per case found: each asserts the exit code, the one-line
message, and that nothing was lost (the user's files are all there; an index that was there is
byte for byte the same, so it answers identically).

Commands that print warnings, could hang or run concurrently are run as real processes; the
others through typer's runner. Every index and document here is real (MiniLM, FAISS, BM25).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import DOCS, rag
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rag.citing.citations import parse_answer, parse_citations, sentence_spans, split_sentences
from rag.cli import app
from rag.errors import RagError
from rag.indexing.store import build_index, load_index, recover
from rag.pipeline import MAX_QUESTION_CHARS, NOT_ANSWERED, Pipeline, PipelineConfig

if TYPE_CHECKING:
    from conftest import RuleJudge, ScriptedGenerator

runner = CliRunner()


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``: equal fingerprints, identical files."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_error_line(output: str) -> str:
    """The single ``error:`` line of a failed command (and no traceback)."""
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input")
    index = root / "indexes" / "base"
    build_index([write(root / "docs", DOCS)], index, device="cpu", show_progress=False)
    return index


@pytest.fixture
def index_copy(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "indexes" / "idx"
    shutil.copytree(base, target)
    return target


# ---------------------------------------------------------------- data loss


def test_overwrite_never_deletes_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    # the reported case: `rag index docs --name docs --overwrite` in the folder that holds docs/
    docs = write(tmp_path / "docs", {"a.txt": "hi, these are my own notes about honeybees"})
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


def test_two_writers_at_once_lose_nothing(index_copy: Path, tmp_path: Path) -> None:
    new = write(tmp_path / "new", {"a.txt": "Ants farm fungus.", "b.txt": "Wasps build paper nests."})
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
    (partial / "manifest.json").write_text(json.dumps(manifest))
    os.replace(index_copy, old)
    recover(index_copy)
    assert json.loads((index_copy / "manifest.json").read_text())["updated"] == "the new one"
    assert not old.exists() and not partial.exists()
    # a stale copy beside a complete index is removed by the next write
    shutil.copytree(index_copy, old)
    build_index([write(tmp_path / "d", DOCS)], index_copy, device="cpu", show_progress=False, overwrite=True)
    assert not old.exists()
    assert sorted(p.name for p in index_copy.parent.iterdir()) == [".idx.lock", ".idx.swap.lock", "idx"]


def test_rebuild_hints_name_an_index_given_as_a_path(index_copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "some" / "where"
    shutil.copytree(index_copy, elsewhere)
    (elsewhere / "passages.jsonl").write_text("changed\n")
    with pytest.raises(RagError, match=f"--name {elsewhere} --overwrite"):
        load_index(elsewhere, device="cpu")


# ---------------------------------------------------------------- bad documents


def test_bad_documents_are_skipped_named_and_counted(tmp_path: Path) -> None:
    docs = write(tmp_path / "docs", {"good.txt": "Honeybees dance to show where flowers are."})
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
        "docs/latin1.txt: not valid UTF-8 text (byte 3): convert it to UTF-8",
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


# ---------------------------------------------------------------- damaged indexes


def test_a_manifest_with_an_unknown_setting_is_one_line(index_copy: Path, tmp_path: Path) -> None:
    manifest = json.loads((index_copy / "manifest.json").read_text())
    manifest["chunking"]["stride"] = 3
    (index_copy / "manifest.json").write_text(json.dumps(manifest))
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


# ---------------------------------------------------------------- bad questions and data


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command loads a model: cheap checks must come first."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(Pipeline, "from_names", refuse)
    monkeypatch.setattr("rag.evaluation.runner.run_benchmark", refuse)
    monkeypatch.setattr("rag.cli.eval.run_benchmark", refuse)


@pytest.mark.parametrize(
    "args,message",
    [
        (["ask", ""], "error: the question is empty"),
        (["ask", "   "], "error: the question is empty"),
        (["ask", "x" * 20_000], f"error: the question is 20000 characters long; at most {MAX_QUESTION_CHARS}"),
        (["ask", "Who?", "--k", "1000"], "error: k must be between 1 and 100 passages, got 1000"),
        (["ask", "Who?", "--k", "0"], "error: k must be between 1 and 100 passages, got 0"),
    ],
)
def test_bad_questions_fail_before_any_model_loads(args: list[str], message: str, no_models: None) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert one_error_line(result.output).startswith(message)


@pytest.mark.parametrize(
    "data,message",
    [
        ([{"id": "q", "question": "Who?", "qa_pairs": 5}], "'qa_pairs' must be a list of JSON objects, got 5"),
        ([{"id": "q", "question": "Who?", "qa_pairs": ["str"]}], "'qa_pairs' must be a list of JSON objects"),
        (
            [{"id": "q", "question": "Who?", "qa_pairs": [{"short_answers": "Paris"}]}],
            "'short_answers' of a qa_pair must be a list of strings",
        ),
        ([], "holds no questions"),
    ],
)
@pytest.mark.parametrize("extra", [[], ["--retrieval-only"]])
def test_malformed_eval_data_is_one_line_and_leaves_no_run(
    tmp_path: Path, data: list[object], message: str, extra: list[str], no_models: None
) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    results = tmp_path / "results"
    result = runner.invoke(app, ["eval", "--data", str(path), "--results-dir", str(results), "--run", "r", *extra])
    assert result.exit_code == 1
    assert message in one_error_line(result.output)
    assert not results.exists() and not (tmp_path / "eval").exists()


def test_a_prompt_over_the_context_window_says_what_to_do() -> None:
    from rag.generation.llamacpp import LlamaCppGenerator
    from rag.models import resolve_generator

    gen = LlamaCppGenerator(resolve_generator("smollm2-135m"), name="smollm2-135m", n_ctx=128)
    try:
        with pytest.raises(RagError, match=r"does not fit .* context window of 128 tokens .*fewer passages \(--k\)"):
            gen.generate([{"role": "user", "content": "tea " * 400}])
    finally:
        gen.close()


# ---------------------------------------------------------------- answers that should not be given


@pytest.mark.parametrize("question", ["?!?", "Qui a construit la tour Eiffel et pourquoi ?"])
def test_nothing_relevant_is_not_answered(
    base: Path,
    question: str,
    scripted_generator: type[ScriptedGenerator],
    rule_judge: type[RuleJudge],
) -> None:
    index = load_index(base, device="cpu")
    gen = scripted_generator("Tea was first drunk in China [1].")
    answer = Pipeline(gen, index, PipelineConfig(k=3), attribution_judge=rule_judge("words")).ask(question)
    assert answer.answered is False and answer.text == NOT_ANSWERED
    assert gen.messages == []  # the generator was never asked
    assert len(answer.passages) == 3  # shown as the closest passages, not as an answer


def test_a_quoted_fallback_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli.render import render_answer
    from rag.types import Answer, Passage, ScoredPassage, Statement

    quote = Statement("Tea was first drunk in China.", "Tea was first drunk in China [1].", (1,), verdict="supported")
    given = (ScoredPassage(Passage("tea", "Tea was first drunk in China.", "Tea"), 1.0, 1),)
    answer = Answer("Where?", quote.raw, (quote,), given, "scripted", {"total": 1.0}, quoted_fallback=True)
    render_answer(answer, strict=False, streamed=False)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [quote.raw, "(Quoted from the passages: nothing the model wrote itself was supported by them.)"]


# ---------------------------------------------------------------- arbitrary text

_PIECES = st.sampled_from(
    ["[1]", "[2][3]", "[1-3]", "[0]", "[7]", "[1, 2]", "[3-1]", "[1-2-3]", "[ 2 ]", "[99999999999999999999]"]
    + ["[1-200]", "[a]", "[]", ". ", "! ", "? ", "\n", " [2].", ".[2] It", "Mr. ", "e.g. ", "\u2013", "٣", " "]
)
_TEXT = st.lists(st.one_of(st.text(max_size=20), _PIECES), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, n=st.integers(min_value=0, max_value=6))
def test_the_citation_parser_takes_any_text(text: str, n: int) -> None:
    for st_ in parse_answer(text, n):
        assert st_.text.strip() and re.search(r"\w", st_.text)
        assert all(1 <= c <= n for c in st_.citations) and len(set(st_.citations)) == len(st_.citations)
        assert not any(1 <= c <= n for c in st_.invalid_citations)
        assert len(set(st_.invalid_citations)) == len(st_.invalid_citations)
    valid, invalid = parse_citations(text, n)
    assert set(valid) <= set(range(1, n + 1)) and not set(valid) & set(invalid)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_the_sentence_splitter_takes_any_text(text: str) -> None:
    spans = sentence_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))  # in order, never overlapping
    sentences = split_sentences(text)
    assert all(s.strip() for s in sentences)
    assert len(sentences) == len(spans)
