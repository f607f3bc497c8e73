"""rag.generation.hf: the transformers backend on the tiny packaged GGUF (de-quantised by transformers), on CPU:

- a streamed answer ends (a stream that ended once used to be waited on forever);
- batched greedy generation gives each conversation the answer it gets alone;
- the batched ``hf:`` judge gives the same probabilities at any batch size, and the same verdicts
  as the llama.cpp judge on the same model for the labelled pairs (the stated agreement);
- ``load_judge`` knows ``hf:``.
"""

from __future__ import annotations

import os

import pytest

from rag.generation.base import GenerationConfig
from rag.generation.hf import TransformersGenerator
from rag.generation.load import load_generator

pytest.importorskip("gguf", reason="transformers needs the gguf package to read GGUF files")
pytest.importorskip("accelerate", reason="transformers needs accelerate to load GGUF files")


TINY = "smollm2-135m"


@pytest.fixture(scope="module", autouse=True)
def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def generator() -> TransformersGenerator:
    gen = load_generator(f"hf:{TINY}", device="cpu")  # the GGUF on transformers, not llama.cpp
    assert isinstance(gen, TransformersGenerator)
    gen.batch_size = 3  # 4 conversations: a full batch and a short one
    return gen


CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Name a colour."}],
    [{"role": "user", "content": "Say hello to the world in one long, friendly sentence."}],
    [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "What do bees make?"}],
]


def test_a_stream_ends_and_equals_the_whole_answer(generator: TransformersGenerator) -> None:
    cfg = GenerationConfig(max_tokens=30)
    pieces = list(generator.stream(CONVERSATIONS[0], cfg))
    assert "".join(pieces) == generator.generate(CONVERSATIONS[0], cfg).text
    assert "Paris" in "".join(pieces)


def test_a_stop_string_ends_the_stream(generator: TransformersGenerator) -> None:
    text = generator.generate(CONVERSATIONS[0], GenerationConfig(max_tokens=30, stop=("France",))).text
    assert "France" not in text and text  # cut before the stop text


def test_batched_greedy_answers_equal_one_at_a_time(generator: TransformersGenerator) -> None:
    cfg = GenerationConfig(max_tokens=24)
    batched = generator.generate_batch(CONVERSATIONS, cfg)
    alone = [generator.generate(c, cfg).text for c in CONVERSATIONS]
    assert [g.text for g in batched] == alone
    assert all(g.prompt_tokens > 0 and 0 < g.completion_tokens <= 24 for g in batched)
