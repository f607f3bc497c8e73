"""The generator interface: decoding settings, one timed generation, the ``Generator`` ABC.

Backends: ``rag.generation.llamacpp`` (GGUF on llama.cpp, the CPU path) and ``rag.generation.hf``
(transformers, the GPU path); ``rag.generation.load.load_generator`` picks one by name.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from rag.errors import RagError

_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings. ``temperature == 0`` means greedy decoding (deterministic)."""

    max_tokens: int = 300
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    #: GBNF grammar text constraining the output (llama.cpp only; it needs a ``root`` rule);
    #: ``None`` leaves decoding free.
    grammar: str | None = None
    #: llama.cpp's repeat penalty (1.0 = off); the transformers backend maps it to
    #: ``repetition_penalty``.
    repeat_penalty: float = 1.0

    def __post_init__(self) -> None:
        if self.grammar is not None and not self.grammar.strip():
            raise RagError("grammar is empty; pass GBNF text or None")
        if self.repeat_penalty <= 0:
            raise RagError(f"repeat_penalty must be > 0, got {self.repeat_penalty}")
        if self.max_tokens < 1:
            raise RagError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise RagError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise RagError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass(frozen=True)
class Generation:
    """One generated answer with its token counts and timings (seconds)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token: float
    total_time: float

    @property
    def tokens_per_second(self) -> float:
        """Decode speed after the first token (0 when it cannot be measured)."""
        decode = self.total_time - self.time_to_first_token
        return (self.completion_tokens - 1) / decode if decode > 0 and self.completion_tokens > 1 else 0.0


def check_messages(messages: list[dict[str, str]]) -> None:
    """Raise ``ValueError`` unless ``messages`` is a non-empty list of role/content dicts."""
    if not messages:
        raise RagError("no messages to generate from; build them with rag.generation.prompts")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
            raise RagError(f"message {i} must be {{'role': one of {'/'.join(_ROLES)}, 'content': str}}, got {m!r}")


class Generator(ABC):
    """A chat LM. Subclasses implement ``stream`` and ``count_tokens``."""

    name: str
    n_ctx: int
    #: True when each piece ``stream`` yields is one token (exact completion counts).
    pieces_are_tokens: bool = False

    @abstractmethod
    def stream(self, messages: list[dict[str, str]], config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Yield the answer to chat ``messages`` piece by piece as it is generated."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by this model's tokenizer (no special tokens added)."""

    def count_message_tokens(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens for ``messages`` (backends with a chat template count it exactly)."""
        return sum(self.count_tokens(m["content"]) for m in messages)

    def generate(
        self,
        messages: list[dict[str, str]],
        config: GenerationConfig = GenerationConfig(),
        on_token: Callable[[str], None] | None = None,
    ) -> Generation:
        """Generate a whole answer (calling ``on_token`` with each piece) and time it."""
        check_messages(messages)
        prompt_tokens = self.count_message_tokens(messages)
        pieces: list[str] = []
        n_pieces = 0
        start = time.perf_counter()
        ttft: float | None = None
        for piece in self.stream(messages, config):
            if not piece:
                continue
            if ttft is None:
                ttft = time.perf_counter() - start
            n_pieces += 1
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
        total = time.perf_counter() - start
        text = "".join(pieces)
        completion = n_pieces if self.pieces_are_tokens else (self.count_tokens(text) if text else 0)
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion,
            time_to_first_token=total if ttft is None else ttft,
            total_time=total,
        )

    def generate_batch(
        self, conversations: Sequence[list[dict[str, str]]], config: GenerationConfig = GenerationConfig()
    ) -> list[Generation]:
        """Answers for several conversations; here one after another (a backend that can run a
        batch at once, like transformers on a GPU, overrides it). Greedy answers equal
        :meth:`generate`'s."""
        return [self.generate(messages, config) for messages in conversations]

    def prime(self, prompts: Sequence[list[dict[str, str]]]) -> str | None:
        """Get ready for prompts that begin as ``prompts`` all do: their shared beginning is
        evaluated now (or restored from disk) so the next answer starts after it. Says how
        (``rag.kvcache.Primed``), or None when this backend keeps no such state (the default)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free the model (the generator is unusable afterwards)."""
