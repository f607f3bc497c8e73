"""rag.generation.llamacpp on the tiny packaged SmolLM2: streaming, the prompt llama.cpp evaluated,
greedy determinism (a cached prompt prefix included), stop strings, a grammar that does not parse,
a prompt over the context window."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import RagError
from rag.generation import GenerationConfig, Generator, load_generator
from rag.generation.llamacpp import LlamaCppGenerator
from rag.generation.prompts import rag_messages
from rag.types import Passage

PASSAGES = [
    Passage(id="a", title="Golden Gate Bridge", text="The Golden Gate Bridge opened to traffic on May 28, 1937."),
    Passage(id="b", title="San Francisco", text="San Francisco is a city in northern California."),
]


MESSAGES = rag_messages("When did the Golden Gate Bridge open?", PASSAGES)


@pytest.fixture(scope="module")
def smol() -> Generator:
    return load_generator("smollm2-135m", n_ctx=2048)


def test_missing_gguf_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        LlamaCppGenerator(tmp_path / "none.gguf")


def test_stream_yields_several_pieces(smol: Generator) -> None:
    pieces = list(smol.stream(MESSAGES, GenerationConfig(max_tokens=16)))
    assert len(pieces) > 3
    assert all(isinstance(p, str) and p for p in pieces)
    assert len(pieces) <= 16


def test_generation_fields_consistent(smol: LlamaCppGenerator) -> None:
    seen: list[str] = []
    gen = smol.generate(MESSAGES, GenerationConfig(max_tokens=24), on_token=seen.append)
    assert gen.text == "".join(seen) and gen.text.strip()
    assert gen.completion_tokens == len(seen) <= 24
    # the templated prompt is what llama.cpp evaluated: its tokens open the context
    tokens = smol._prompt_tokens(MESSAGES)
    assert gen.prompt_tokens == len(tokens)
    assert smol.llama.input_ids[: len(tokens)].tolist() == tokens
    assert gen.prompt_tokens > sum(smol.count_tokens(m["content"]) for m in MESSAGES)
    assert 0 < gen.time_to_first_token <= gen.total_time


def test_deterministic_at_temperature_zero(smol: Generator) -> None:
    cfg = GenerationConfig(max_tokens=32)
    first = smol.generate(MESSAGES, cfg).text
    again = smol.generate(MESSAGES, cfg).text  # same prompt twice in a row (fully cached)
    paris = [Passage(id="p", title="France", text="Paris is the capital and largest city of France.")]
    other = smol.generate(rag_messages("What is the capital of France?", paris), cfg).text
    streamed = "".join(smol.stream(MESSAGES, cfg))
    assert first == again == streamed
    assert other != first


def test_a_cached_prompt_prefix_gives_the_answer_a_fresh_context_gives(smol: LlamaCppGenerator) -> None:
    # llama.cpp keeps the evaluated prompt and reuses the part a new prompt shares with it (the
    # fixed instructions and template): greedy answers must not depend on that reuse
    cfg = GenerationConfig(max_tokens=24)
    paris = [Passage(id="p", title="France", text="Paris is the capital and largest city of France.")]
    rome = [Passage(id="r", title="Italy", text="Rome is the capital of Italy.")]
    first = rag_messages("What is the capital of France?", paris)
    second = rag_messages("What is the capital of Italy?", rome)
    smol.generate(first, cfg)
    shared = smol._prompt_tokens(first)
    tokens = smol._prompt_tokens(second)
    assert shared is not None and tokens is not None
    common = next(i for i, (a, b) in enumerate(zip(shared, tokens, strict=False)) if a != b)
    assert common > 10  # the two prompts share their instructions, which stay evaluated
    cached = smol.generate(second, cfg).text
    smol.llama.reset()  # nothing evaluated: the whole prompt from scratch
    assert smol.generate(second, cfg).text == cached


def test_stop_strings_cut_the_answer(smol: Generator) -> None:
    full = smol.generate(MESSAGES, GenerationConfig(max_tokens=40)).text
    assert " " in full.strip()
    cut = smol.generate(MESSAGES, GenerationConfig(max_tokens=40, stop=(" ",))).text
    assert " " not in cut.strip() and full.startswith(cut)


def test_generator_refuses_a_bad_grammar(smol: LlamaCppGenerator) -> None:
    with pytest.raises(ValueError, match="does not parse"):
        list(smol.stream(MESSAGES, GenerationConfig(max_tokens=4, grammar="root ::= undefined-rule")))


def test_a_prompt_over_the_context_window_says_what_to_do() -> None:
    from rag.generation.llamacpp import LlamaCppGenerator
    from rag.models import resolve_generator

    gen = LlamaCppGenerator(resolve_generator("smollm2-135m"), name="smollm2-135m", n_ctx=128)
    try:
        with pytest.raises(RagError, match=r"does not fit .* context window of 128 tokens .*fewer passages \(--k\)"):
            gen.generate([{"role": "user", "content": "tea " * 400}])
    finally:
        gen.close()
