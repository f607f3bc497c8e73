"""What the test files share: fakes (a scripted generator, rule-based judges and a fake index:
BM25, dense search, embedders), so that no test loads a model for what it does not measure; the
benchmark data's location and the :data:`needs_shared_data` mark; and small helpers (documents
written to a folder, a folder's fingerprint, the CLI's one error line, a real index of
:data:`DOCS`).

Tests get the fakes through the fixtures at the end of this file; each fixture returns the class,
which the test constructs with its own script (``scripted_generator("Tea is from China [1].")``).
Helpers and constants are imported (``from conftest import DOCS``): ``tests/`` is on ``sys.path``
(the sub-folders are packages, so that two test files may share a name).

The tests mirror the package: ``tests/<package>/test_<module>.py`` for ``rag/<package>/<module>.py``
and ``tests/test_<module>.py`` for ``rag/<module>.py``; ``tests/test_pipeline_evidence.py`` holds the
pipeline's end-to-end tests of the ``evidence`` prompt.
"""

from __future__ import annotations

import doctest
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from rag.generation import GenerationConfig, Generator
from rag.judges import Judge
from rag.types import Hit, Passage

Messages = list[dict[str, str]]

#: The repository's root, and the test data shipped with the tests (``tests/data``).
REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"

# ---------------------------------------------------------------- the benchmark data


def _find_shared_data() -> Path | None:
    """The benchmark data: ``$RAG_SHARED_DATA`` when set, else ``../shared/data`` beside the
    checkout when that folder exists. ``RAG_TEST_NO_SHARED=1`` pretends there is none (to check
    that the suite passes, skipping, on a machine without it)."""
    if os.environ.get("RAG_TEST_NO_SHARED") == "1":
        os.environ.pop("RAG_SHARED_DATA", None)
        return None
    env = os.environ.get("RAG_SHARED_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    beside = REPO.parent / "shared" / "data"
    if beside.is_dir():
        os.environ["RAG_SHARED_DATA"] = str(beside)  # rag.paths.benchmark_data_dir() reads it
        return beside
    return None


#: The benchmark data folder (ASQA, the corpus, ALCE's prompt files), or None when there is none.
SHARED_DATA: Path | None = _find_shared_data()

#: Marks a test that reads the benchmark data: skipped where there is none.
needs_shared_data = pytest.mark.skipif(
    SHARED_DATA is None,
    reason="needs the benchmark data (../shared/data or $RAG_SHARED_DATA): ASQA, ALCE's prompt files",
)


def shared_file(*parts: str) -> Path:
    """A file of the benchmark data (a path that does not exist when there is none)."""
    return (SHARED_DATA or REPO / "no-shared-data").joinpath(*parts)


#: Three small documents (two Markdown, one text) that the CLI, serve and bad-input tests index.
DOCS = {
    "tea.md": "# Tea\n\nTea was first drunk in China, where legend credits the emperor Shennong. "
    "A cup of black tea holds about 40 to 50 milligrams of caffeine.\n",
    "coffee.md": "# Coffee\n\nCoffee was first drunk in the Sufi monasteries of Yemen in the fifteenth "
    "century. A cup of brewed coffee holds about 95 milligrams of caffeine.\n",
    "bees.txt": "Honeybees live in colonies with one queen, thousands of workers and a few drones.\n",
}

Pair = tuple[str, str]

#: The generator's own citations kept as they are, nothing hidden: no attribution judge needed.
MODEL_CITES: dict[str, Any] = {"prompt": "default", "cite": "model", "hide_unsupported": False, "quote_fallback": False}

# ---------------------------------------------------------------- generator


class ScriptedGenerator(Generator):
    """A generator without a model: gives scripted text and records every call.

    ``answer`` is one of:

    - a string: the text, streamed word by word (``"Tea is"`` as ``"Tea"``, ``" is"``);
    - a list of strings: the exact pieces to stream (empty pieces included);
    - a mapping from sample to text: ``-1`` is the greedy answer (temperature 0), any other key the
      seed of a sampled answer;
    - a function of ``(messages, config)`` that returns the text.

    ``messages`` and ``configs`` hold what each call got. ``counter`` (a one-element list, which
    several generators may share) counts the calls; with ``die_after``, the call after that count
    raises ``die_with`` (standing for the process being killed mid-run).
    """

    def __init__(
        self,
        answer: str | list[str] | Mapping[int, str] | Callable[[Messages, GenerationConfig], str],
        *,
        name: str = "scripted",
        n_ctx: int = 4096,
        pieces_are_tokens: bool = False,
        counter: list[int] | None = None,
        die_after: int | None = None,
        die_with: type[BaseException] = RuntimeError,
    ) -> None:
        self.answer = answer
        self.name = name
        self.n_ctx = n_ctx
        self.pieces_are_tokens = pieces_are_tokens
        self.counter = counter if counter is not None else [0]
        self.die_after = die_after
        self.die_with = die_with
        self.messages: list[Messages] = []
        self.configs: list[GenerationConfig] = []

    def _pieces(self, messages: Messages, config: GenerationConfig) -> list[str]:
        answer = self.answer
        if isinstance(answer, list):
            return list(answer)
        if isinstance(answer, Mapping):
            text = answer[-1 if config.temperature == 0 else config.seed]
        elif isinstance(answer, str):
            text = answer
        else:
            text = answer(messages, config)
        words = text.split(" ")
        return words[:1] + [" " + w for w in words[1:]]

    def stream(self, messages: Messages, config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        self.counter[0] += 1
        if self.die_after is not None and self.counter[0] > self.die_after:
            raise self.die_with()
        self.messages.append(messages)
        self.configs.append(config)
        yield from self._pieces(messages, config)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


# ---------------------------------------------------------------- judges


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _substring(premise: str, hypothesis: str) -> bool:
    return hypothesis in premise


def _all_words(premise: str, hypothesis: str) -> bool:
    return _words(hypothesis) <= _words(premise)


def _keywords(premise: str, hypothesis: str) -> bool:
    return all(w in premise.lower() for w in hypothesis.lower().split() if len(w) > 3)


#: The named rules of :class:`RuleJudge`.
RULES: dict[str, Callable[[str, str], bool]] = {
    # the hypothesis appears verbatim in the premise
    "substring": _substring,
    # every word of the hypothesis (\w+, case-insensitive) is a word of the premise
    "words": _all_words,
    # every word of the hypothesis longer than 3 letters is in the premise (as a substring)
    "keywords": _keywords,
}


class RuleJudge(Judge):
    """An entailment judge that follows a rule and records every pair it is asked.

    ``rule`` is a name of :data:`RULES`, a function ``(premise, hypothesis) -> bool``, or a mapping
    ``{hypothesis: [[fragment, ...], ...]}``: a hypothesis is entailed iff the premise contains
    every fragment of one of its alternatives (hypotheses not in the mapping are never entailed).
    ``batches`` holds each call's pairs, ``asked`` all pairs in order.
    """

    def __init__(
        self,
        rule: str | Callable[[str, str], bool] | Mapping[str, Sequence[Sequence[str]]],
        name: str = "scripted",
        official: bool = False,
    ) -> None:
        if isinstance(rule, str):
            self.rule = RULES[rule]
        elif isinstance(rule, Mapping):
            support = {h: [list(alt) for alt in alts] for h, alts in rule.items()}
            self.rule = lambda p, h: any(all(f in p for f in alt) for alt in support.get(h, []))
        else:
            self.rule = rule
        self.name = name
        self.official = official
        self.batches: list[list[Pair]] = []

    @property
    def asked(self) -> list[Pair]:
        return [pair for batch in self.batches for pair in batch]

    def entails_batch(self, pairs: Sequence[Pair]) -> list[bool]:
        self.batches.append(list(pairs))
        return [bool(self.rule(p, h)) for p, h in pairs]


class FixedJudge(Judge):
    """Returns a fixed list of verdicts (and checks it is asked exactly that many pairs)."""

    name = "fixed"

    def __init__(self, verdicts: list[bool]) -> None:
        self.verdicts = verdicts

    def entails_batch(self, pairs: Sequence[Pair]) -> list[bool]:
        assert len(pairs) == len(self.verdicts)
        return list(self.verdicts)


# ---------------------------------------------------------------- index


class _Ranked:
    """Hits for each query: the same ``rows`` (best first) for every query, or ``rows[query]``
    when ``rows`` is a mapping. The hit at rank ``r`` scores ``top - step * (r - 1)``. ``calls``
    records the depth ``k`` of every search."""

    def __init__(self, rows: Sequence[int] | Mapping[str, Sequence[int]], top: float, step: float) -> None:
        self.rows = rows
        self.top = top
        self.step = step
        self.calls: list[int] = []

    def _hits(self, queries: Sequence[Any], k: int) -> list[list[Hit]]:
        self.calls.append(k)
        out = []
        for q in queries:
            rows = self.rows[q] if isinstance(self.rows, Mapping) else self.rows
            out.append([Hit(r, self.top - self.step * i, i + 1) for i, r in enumerate(list(rows)[:k])])
        return out


class FakeBM25(_Ranked):
    """``unknown`` are the words no indexed text holds (none unless a test sets them)."""

    unknown: frozenset[str] = frozenset()

    def search_many(self, queries: list[str], k: int) -> list[list[Hit]]:
        return self._hits(queries, k)

    def unknown_words(self, words: Sequence[str]) -> list[str]:
        return [w for w in words if w in self.unknown]


class FakeDense(_Ranked):
    def search(self, queries: Sequence[Any], k: int) -> list[list[Hit]]:
        return self._hits(queries, k)


class FakeEmbedder:
    """Embeds queries as their own text (so a fake dense index can look them up) and any text as
    the same unit vector (every pair of texts equally similar, cosine 1: word overlap decides).
    ``batches`` records the size of each ``encode_queries`` call, ``encoded`` each ``encode`` call.
    Takes (and ignores) ``rag.indexing.dense.Embedder``'s arguments, so it can stand in for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.batches: list[int] = []
        self.encoded: list[list[str]] = []

    def encode_queries(self, queries: list[str]) -> list[str]:
        self.batches.append(len(queries))
        return list(queries)

    def encode(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        self.encoded.append(list(texts))
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


class BowEmbedder(FakeEmbedder):
    """Embeds every text as its bag of content words (``rag.text.content_words``:
    lower-cased, stop words out), each word once, scaled to unit length over the vocabulary of the
    call; so the cosine of two texts is ``|A & B| / sqrt(|A| * |B|)`` of their content-word sets,
    worked out by hand (0 for texts sharing no content word, and for a text without any). Queries
    are embedded as their own text, like :class:`FakeEmbedder`, for a fake dense index."""

    def encode(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        from rag.text import content_words

        self.encoded.append(list(texts))
        bags = [content_words(t) for t in texts]
        vocab = {w: i for i, w in enumerate(sorted(set().union(*bags)))}
        out = np.zeros((len(texts), max(1, len(vocab))), dtype=np.float64)
        for row, bag in enumerate(bags):
            for w in bag:
                out[row, vocab[w]] = 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0.0, 1.0, norms)


class FakeIndex:
    """What ``rag.retrieval.Retriever`` and ``rag.pipeline.Pipeline`` use of an index: passages,
    a BM25 and a dense search ranking ``bm25`` / ``dense`` rows (see ``_Ranked``), an embedder."""

    def __init__(
        self,
        passages: Sequence[Passage],
        bm25: Sequence[int] | Mapping[str, Sequence[int]] = (),
        dense: Sequence[int] | Mapping[str, Sequence[int]] = (),
        *,
        bm25_scores: tuple[float, float] = (10.0, 1.0),
        dense_scores: tuple[float, float] = (1.0, 0.1),
    ) -> None:
        self.passages = list(passages)
        self.bm25 = FakeBM25(bm25, *bm25_scores)
        self.dense = FakeDense(dense, *dense_scores)
        self.embedder = FakeEmbedder()


# ---------------------------------------------------------------- evaluation runs

#: Five hand-written questions in ALCE's format (qa_pairs, annotations, four docs each): the
#: runner's tests never depend on the benchmark data.
ASQA_TINY = TEST_DATA / "asqa_tiny.json"


#: What the ``factory`` fixture gives: ``factory(counter, die_after)`` is a pipeline factory.
Factory = Callable[..., Callable[[str], Any]]


class Killed(Exception):
    """Stands for the process being killed mid-run."""


_RUN_PIPELINE_FIELDS = ("k", "prompt", "cite", "hide_unsupported", "quote_fallback", "attribution_judge")


def run_config(**kw: object) -> Any:
    """A small run on :data:`ASQA_TINY` with its own docs: ``fake-a`` with retrieval and closed
    book, ``fake-b`` as the baseline, no judge, 3 passages, the generator's own citations. A
    keyword of :class:`rag.pipeline.PipelineConfig` goes to the pipeline, others to the run."""
    from rag.config import PipelineConfig
    from rag.evaluation.rundir import RunConfig

    base: dict[str, object] = dict(
        data=str(ASQA_TINY),
        docs_from_file=True,
        index=None,
        limit=5,
        generators=("fake-a",),
        closed_book=True,
        baseline="fake-b",
        judge="none",
    )
    pipe: dict[str, object] = dict(k=3, cite="model", hide_unsupported=False, quote_fallback=False)
    for key, value in kw.items():
        (pipe if key in _RUN_PIPELINE_FIELDS else base)[key] = value
    return RunConfig(**base, pipeline=PipelineConfig(**pipe))  # type: ignore[arg-type]


def says_the_question(name: str) -> Callable[[Messages, GenerationConfig], str]:
    """A deterministic answer: repeats the question and cites passage [1] when there are passages."""

    def answer(messages: Messages, config: GenerationConfig) -> str:
        user = messages[-1]["content"]
        has_passages = "[1]" in user
        question = user.split("Question:")[-1].strip().splitlines()[0]
        return f"{name} says {question}" + (" [1]." if has_passages else ".")

    return answer


# ---------------------------------------------------------------- files and folders


def write_docs(folder: Path, files: Mapping[str, str]) -> Path:
    """``files`` (name to text) written into ``folder`` (made if need be); returns the folder."""
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


def rewrite_manifest(index: Path, manifest: Mapping[str, Any]) -> None:
    """``manifest`` written as the index's ``manifest.json``, with the ``.rag-index`` marker that
    matches it: the index as a rag that wrote this manifest would have left it."""
    from rag.indexing.layout import MANIFEST, MARKER, marker_text

    data = json.dumps(manifest).encode("utf-8")
    (index / MANIFEST).write_bytes(data)
    (index / MARKER).write_text(marker_text(data), encoding="utf-8")


def run_doctests(module: ModuleType) -> None:
    """The examples in ``module``'s docstrings hold (and there are some)."""
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0, module.__name__


# ---------------------------------------------------------------- the CLI


def one_error_line(output: str) -> str:
    """The single ``error:`` line of a failed command (and no traceback)."""
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


def lines(output: str) -> list[str]:
    """The lines of ``output`` that are not blank."""
    return [ln for ln in output.splitlines() if ln.strip()]


def raising(exc: BaseException) -> Callable[..., Any]:
    """A function that takes any arguments and raises ``exc`` (to monkeypatch a loader with)."""

    def fake(*args: object, **kwargs: object) -> Any:
        raise exc

    return fake


# ---------------------------------------------------------------- arbitrary text


def _answer_like_text() -> Any:
    """A hypothesis strategy: text made of random characters and the pieces that trip a citation
    parser or a sentence splitter (markers good and bad, stops, abbreviations, line breaks)."""
    from hypothesis import strategies as st

    pieces = st.sampled_from(
        ["[1]", "[2][3]", "[1-3]", "[0]", "[7]", "[1, 2]", "[3-1]", "[1-2-3]", "[ 2 ]", "[99999999999999999999]"]
        + ["[1-200]", "[a]", "[]", ". ", "! ", "? ", "\n", " [2].", ".[2] It", "Mr. ", "e.g. ", "\u2013", "٣", " "]
    )
    return st.lists(st.one_of(st.text(max_size=20), pieces), max_size=25).map("".join)


ANSWER_LIKE_TEXT = _answer_like_text()


# ---------------------------------------------------------------- the CLI in a new process


def rag(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``rag ARGS`` in a new process (its own log handler, so warnings reach stderr as users see them)."""
    env = {**os.environ, "RAG_INDEXES": str(cwd / "indexes")}
    return subprocess.run(
        [sys.executable, "-c", "from rag.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,  # a hang fails the test instead of the suite
    )


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def scripted_generator() -> type[ScriptedGenerator]:
    return ScriptedGenerator


@pytest.fixture
def rule_judge() -> type[RuleJudge]:
    return RuleJudge


@pytest.fixture
def fixed_judge() -> type[FixedJudge]:
    return FixedJudge


@pytest.fixture
def fake_index() -> type[FakeIndex]:
    return FakeIndex


@pytest.fixture
def fake_embedder() -> type[FakeEmbedder]:
    return FakeEmbedder


@pytest.fixture
def bow_embedder() -> type[BowEmbedder]:
    return BowEmbedder


@pytest.fixture
def factory() -> Callable[..., Callable[[str], Any]]:
    """``factory(counter, die_after)``: a pipeline factory for ``rag.evaluation.runner`` whose
    generators say the question back (:func:`says_the_question`); with ``die_after``, the
    generators (sharing ``counter``) are killed (:class:`Killed`) after that many answers."""
    from rag.config import PipelineConfig
    from rag.pipeline import Pipeline

    def make_factory(counter: list[int] | None = None, die_after: int | None = None) -> Callable[[str], Any]:
        def make(name: str) -> Pipeline:
            gen = ScriptedGenerator(
                says_the_question(name),
                name=name,
                pieces_are_tokens=True,
                counter=counter,
                die_after=die_after,
                die_with=Killed,
            )
            return Pipeline(gen, None, PipelineConfig(k=3, **MODEL_CITES))

        return make

    return make_factory


@pytest.fixture
def no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command loads a model or starts a run: cheap checks must come first."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded before the input was checked")

    from rag.pipeline import Pipeline

    monkeypatch.setattr(Pipeline, "from_names", refuse)
    monkeypatch.setattr("rag.evaluation.runner.run_benchmark", refuse)
    monkeypatch.setattr("rag.cli.eval.run_benchmark", refuse)


@pytest.fixture(scope="session")
def docs_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index (MiniLM, FAISS, BM25) of :data:`DOCS`, built once: copy it before changing it."""
    from rag.indexing.store import build_index

    root = tmp_path_factory.mktemp("docs-index")
    index = root / "indexes" / "base"
    build_index([write_docs(root / "docs", DOCS)], index, device="cpu", show_progress=False)
    return index


@pytest.fixture
def index_copy(docs_index: Path, tmp_path: Path) -> Path:
    """A copy of :func:`docs_index` (``<tmp>/indexes/idx``) that a test may change or damage."""
    import shutil

    target = tmp_path / "indexes" / "idx"
    shutil.copytree(docs_index, target)
    return target


@pytest.fixture(scope="session", autouse=True)
def _close_cached_generators() -> Iterator[None]:
    """Close the generators ``load_generator`` cached, while the interpreter is still whole (left to
    the end, llama.cpp's finaliser prints an ignored exception at exit)."""
    yield
    from rag.generation.load import clear_generator_cache

    clear_generator_cache()
