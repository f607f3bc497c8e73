"""Generators: the base class's timing/counting, and the llama.cpp backend on the tiny SmolLM2."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from rag.generation import DEFAULT_GENERATOR, Generation, GenerationConfig, Generator, load_generator
from rag.generation.base import check_messages
from rag.generation.constraints import citation_grammar, is_well_cited
from rag.generation.llamacpp import LlamaCppGenerator
from rag.generation.prompts import rag_messages
from rag.models import REGISTRY
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import ScriptedGenerator

PASSAGES = [
    Passage(id="a", title="Golden Gate Bridge", text="The Golden Gate Bridge opened to traffic on May 28, 1937."),
    Passage(id="b", title="San Francisco", text="San Francisco is a city in northern California."),
]
MESSAGES = rag_messages("When did the Golden Gate Bridge open?", PASSAGES)


def test_base_generate_joins_pieces_and_counts(scripted_generator: type[ScriptedGenerator]) -> None:
    seen: list[str] = []
    gen = scripted_generator(["", "It opened ", "in 1937 ", "[1]."]).generate(
        [{"role": "user", "content": "two words"}], on_token=seen.append
    )
    assert seen == ["It opened ", "in 1937 ", "[1]."]
    assert gen.text == "It opened in 1937 [1]."
    assert gen.prompt_tokens == 2
    assert gen.completion_tokens == 5  # counted with count_tokens: pieces are not tokens here
    assert 0 <= gen.time_to_first_token <= gen.total_time


def test_base_generate_empty_answer(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator([]).generate([{"role": "user", "content": "x"}])
    assert (gen.text, gen.completion_tokens) == ("", 0)
    assert gen.time_to_first_token == gen.total_time


def test_tokens_per_second_hand_worked() -> None:
    # 11 tokens, first after 1 s, last at 3 s: 10 tokens in 2 s
    assert Generation("x", 10, 11, 1.0, 3.0).tokens_per_second == 5.0
    assert Generation("x", 10, 1, 1.0, 1.0).tokens_per_second == 0.0


@pytest.mark.parametrize(
    "messages",
    [[], [{"role": "robot", "content": "x"}], [{"role": "user"}], ["hello"]],
)
def test_bad_messages_refused(messages: list) -> None:
    with pytest.raises(ValueError, match="message"):
        check_messages(messages)


@pytest.mark.parametrize("kwargs", [{"max_tokens": 0}, {"temperature": -1.0}, {"top_p": 0.0}])
def test_bad_config_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        GenerationConfig(**kwargs)


def test_missing_gguf_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        LlamaCppGenerator(tmp_path / "none.gguf")


def test_default_generator_is_a_packaged_generator() -> None:
    assert REGISTRY[DEFAULT_GENERATOR].role == "generator"


# --- the real tiny model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def smol() -> Generator:
    return load_generator("smollm2-135m", n_ctx=2048)


def test_load_generator_caches(smol: Generator) -> None:
    assert isinstance(smol, LlamaCppGenerator)
    assert load_generator("smollm2-135m", n_ctx=2048) is smol
    assert smol.name == "smollm2-135m" and smol.n_ctx == 2048


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


# --- constrained citing -------------------------------------------------------------------


def test_bad_grammar_config_refused() -> None:
    with pytest.raises(ValueError, match="grammar is empty"):
        GenerationConfig(grammar="  ")
    with pytest.raises(ValueError, match="repeat_penalty"):
        GenerationConfig(repeat_penalty=0.0)


@pytest.mark.parametrize(
    "text",
    [
        "Tea was first drunk in China [1].",
        "Tea was first drunk in China [1]. Coffee has about 95 mg a cup [2][3].",
        "A cup of tea has 2,5 times less caffeine [3]. It is from China[1][2][3].",
        "One [1]. Two [2]. Three [3]. Four [1][2].",
        "T" + "e" * 248 + " [1].",  # MAX_SENTENCE_CHARS exactly, with the space
    ],
)
def test_well_cited_texts_admitted(text: str) -> None:
    assert is_well_cited(text, 3)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Tea was first drunk in China.",  # no citation
        "Tea was first drunk in China [1]. Coffee came later.",  # second sentence uncited
        "Tea was first drunk in China [4].",  # out of range
        "Tea was first drunk in China [0].",
        "Tea was first drunk in China. [1]",  # marker after the full stop
        "Tea [1] was first drunk in China.",  # citation not at the end
        "Tea was first drunk in China [1]. ",  # trailing text after the last sentence
        "Tea [1].\nCoffee [2].",  # newline instead of a space
        "Tea was first drunk in China [1]",  # no full stop
        "A [1]. B [1]. C [1]. D [1]. E [1].",  # five sentences, at most four
        "Was tea first drunk in China? [1].",
        "Tea has 2.5 times less caffeine [1].",  # no full stop inside a sentence
        "Born in 1986.1 [1].",
        "Tea [1][2][3][1].",  # at most three markers
        "T" + "e" * 250 + " [1].",  # a sentence over MAX_SENTENCE_CHARS
    ],
)
def test_badly_cited_texts_rejected(text: str) -> None:
    assert not is_well_cited(text, 3)


def test_max_sentences_and_two_digit_passages() -> None:
    assert is_well_cited("A [12]. B [10][1].", 12, max_sentences=2)
    assert not is_well_cited("A [13].", 12)
    assert not is_well_cited("A [1]. B [1].", 12, max_sentences=1)
    assert "{0,1}" in citation_grammar(12, max_sentences=2)
    with pytest.raises(ValueError, match="n_passages"):
        citation_grammar(0)
    with pytest.raises(ValueError, match="max_sentences"):
        is_well_cited("A [1].", 1, max_sentences=0)


@pytest.fixture(scope="module")
def vocab() -> Any:
    """The tiny model's vocabulary only (no weights): enough for llama.cpp to parse a grammar."""
    import llama_cpp

    from rag.models import resolve_generator

    return llama_cpp.Llama(model_path=resolve_generator("smollm2-135m"), vocab_only=True, verbose=False)


@pytest.mark.parametrize(("k", "max_sentences"), [(1, 1), (5, 4), (12, 3)])
def test_citation_grammar_parses_in_llama_cpp(vocab: Any, k: int, max_sentences: int) -> None:
    import llama_cpp
    from llama_cpp import LlamaGrammar

    text = citation_grammar(k, max_sentences)
    LlamaGrammar.from_string(text, verbose=False)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab._model.vocab, text.encode(), b"root")
    assert sampler  # NULL when llama.cpp's GBNF parser rejects the text
    llama_cpp.llama_sampler_free(sampler)
    bad = llama_cpp.llama_sampler_init_grammar(vocab._model.vocab, b"root ::= [abc", b"root")
    assert not bad


def test_generator_refuses_a_bad_grammar(smol: LlamaCppGenerator) -> None:
    with pytest.raises(ValueError, match="does not parse"):
        list(smol.stream(MESSAGES, GenerationConfig(max_tokens=4, grammar="root ::= undefined-rule")))


def test_grammar_makes_the_tiny_model_cite(smol: LlamaCppGenerator) -> None:
    cfg = GenerationConfig(max_tokens=80, grammar=citation_grammar(len(PASSAGES), max_sentences=2))
    text = smol.generate(MESSAGES, cfg).text
    # either a complete well-cited answer, or one cut by max_tokens inside its grammar
    assert is_well_cited(text, len(PASSAGES), max_sentences=2) or len(smol.llama.tokenize(text.encode())) >= 79
    assert "[" in text
