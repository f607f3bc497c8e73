"""rag.generation.base: the Generator base class's joining, timing and counting (with a scripted
generator), the message checks and GenerationConfig's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from rag.generation import Generation, GenerationConfig
from rag.generation.base import check_messages

if TYPE_CHECKING:
    from conftest import ScriptedGenerator


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


def test_bad_grammar_config_refused() -> None:
    with pytest.raises(ValueError, match="grammar is empty"):
        GenerationConfig(grammar="  ")
    with pytest.raises(ValueError, match="repeat_penalty"):
        GenerationConfig(repeat_penalty=0.0)
