"""Generators: a small interface over chat LMs, with a llama.cpp and a transformers backend.

``load_generator(name)`` resolves a registry short name, a local path or an HF id
(``rag.models.resolve_generator``): a ``.gguf`` file runs on llama.cpp (the CPU path), anything
else on transformers (HF checkpoints, the GPU path). Heavy libraries are imported lazily.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.models import resolve_generator

logger = logging.getLogger(__name__)

# Chosen by eval/bench_generators.py on the 2-core CPU (see eval/generators/README.md).
DEFAULT_GENERATOR = "qwen2.5-0.5b"

_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings. ``temperature == 0`` means greedy decoding (deterministic)."""

    max_tokens: int = 300
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    #: GBNF grammar text constraining the output (llama.cpp only; e.g.
    #: ``rag.constraints.citation_grammar(k)``); ``None`` leaves decoding free.
    grammar: str | None = None
    #: llama.cpp's repeat penalty (1.0 = off); the transformers backend maps it to
    #: ``repetition_penalty``.
    repeat_penalty: float = 1.0

    def __post_init__(self) -> None:
        if self.grammar is not None and not self.grammar.strip():
            raise ValueError("grammar is empty; pass GBNF text or None")
        if self.repeat_penalty <= 0:
            raise ValueError(f"repeat_penalty must be > 0, got {self.repeat_penalty}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


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
        raise ValueError("no messages to generate from; build them with rag.prompts")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
            raise ValueError(f"message {i} must be {{'role': one of {'/'.join(_ROLES)}, 'content': str}}, got {m!r}")


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

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free the model (the generator is unusable afterwards)."""


class LlamaCppGenerator(Generator):
    """A GGUF model on llama.cpp, prompted through the chat template stored in the GGUF."""

    pieces_are_tokens = True

    def __init__(
        self,
        model_path: str | Path,
        name: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"GGUF model {path} not found; pass a registry name or a .gguf path")
        from llama_cpp import Llama

        threads = n_threads or os.cpu_count() or 1
        self.name = name or path.stem
        self.n_ctx = n_ctx
        self.path = path
        self.llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            seed=seed,
            verbose=False,
        )
        self._formatter: Any | None = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def grammar(self, text: str) -> Any:
        """``text`` as a ``LlamaGrammar``, checked against this model's vocabulary.

        llama.cpp parses a grammar only when sampling starts and crashes on a bad one, so it is
        parsed here first; raises ``ValueError`` (with llama.cpp's reason in its log) if it fails.
        """
        cached = self._grammars.get(text)
        if cached is not None:
            return cached
        import llama_cpp
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_string(text, verbose=False)
        sampler = llama_cpp.llama_sampler_init_grammar(self.llama._model.vocab, text.encode("utf-8"), b"root")
        if not sampler:
            raise ValueError(
                "the GBNF grammar does not parse (llama.cpp logs why with verbose output); "
                "it needs a 'root' rule, e.g. rag.constraints.citation_grammar(k)"
            )
        llama_cpp.llama_sampler_free(sampler)
        self._grammars[text] = grammar
        return grammar

    def _template_formatter(self) -> Any | None:
        """The GGUF's chat template as a formatter (to count prompt tokens exactly)."""
        if self._formatter is None:
            template = self.llama.metadata.get("tokenizer.chat_template")
            if not template:
                return None
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            def token_text(tid: int) -> str:
                return self.llama._model.token_get_text(tid) if tid != -1 else ""

            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=token_text(self.llama.token_eos()),
                bos_token=token_text(self.llama.token_bos()),
            )
        return self._formatter

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (no BOS, special tokens parsed as text)."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _prompt_tokens(self, messages: list[dict[str, str]]) -> list[int] | None:
        formatter = self._template_formatter()
        if formatter is None:
            return None
        prompt = formatter(messages=messages).prompt
        return self.llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)

    def count_message_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens of the templated prompt, as llama.cpp evaluates it."""
        tokens = self._prompt_tokens(messages)
        return super().count_message_tokens(messages) if tokens is None else len(tokens)

    def _forget_exact_repeat(self, messages: list[dict[str, str]]) -> None:
        # llama-cpp-python reuses the KV cache for a shared prompt prefix. When the WHOLE
        # prompt is cached it re-evaluates the last token on its own, whose logits differ
        # slightly from the batched evaluation: greedy answers to the same prompt asked twice
        # in a row then differ. Measured: partial-prefix reuse gives identical answers, so
        # only this case drops the cache (keeps ALCE's long shared prefix cached).
        tokens = self._prompt_tokens(messages)
        cached = self.llama.input_ids
        if tokens is not None and len(cached) >= len(tokens) and cached[: len(tokens)].tolist() == tokens:
            self.llama.reset()

    def stream(self, messages: list[dict[str, str]], config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Stream the answer (one piece per token) via ``create_chat_completion(stream=True)``."""
        check_messages(messages)
        grammar = self.grammar(config.grammar) if config.grammar else None
        with self._lock:  # one llama context: never two generations at once
            self._forget_exact_repeat(messages)
            chunks = self.llama.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                max_tokens=config.max_tokens,
                temperature=config.temperature,
                top_p=config.top_p,
                seed=config.seed,
                stop=list(config.stop) or None,
                repeat_penalty=config.repeat_penalty,
                grammar=grammar,
            )
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {})  # type: ignore[index]
                content = delta.get("content")
                if content:
                    yield content

    def close(self) -> None:
        """Free the llama.cpp model and context."""
        llama = getattr(self, "llama", None)
        if llama is not None:
            llama.close()


class TransformersGenerator(Generator):
    """An HF checkpoint on transformers (the GPU path); ``device="auto"`` picks CUDA if present.

    ``model`` is an HF id, a local HF folder, or a local ``.gguf`` file (transformers
    de-quantises it: ~10x slower than llama.cpp on CPU, but the same weights).
    """

    def __init__(self, model: str, name: str | None = None, n_ctx: int = 4096, device: str = "auto") -> None:
        try:
            import torch
            import transformers
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - core dependencies
            raise ImportError("the transformers backend needs torch and transformers installed") from exc

        from rag.device import resolve_device

        self.device = resolve_device(device)
        self.name = name or model
        source, extra = model, {}
        if model.lower().endswith(".gguf") and Path(model).is_file():
            source, extra = str(Path(model).parent), {"gguf_file": Path(model).name}
        self.tokenizer = AutoTokenizer.from_pretrained(source, **extra)
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        # transformers 5 renamed torch_dtype to dtype
        dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        self.model = AutoModelForCausalLM.from_pretrained(source, **extra, **{dtype_kw: dtype})
        self.model.to(self.device)
        self.model.eval()
        limit = getattr(self.model.config, "max_position_embeddings", None) or n_ctx
        self.n_ctx = min(n_ctx, int(limit))

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (no special tokens)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def _input_ids(self, messages: list[dict[str, str]]) -> Any:
        if getattr(self.tokenizer, "chat_template", None):
            enc = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return enc["input_ids"]
        text = "\n\n".join(m["content"] for m in messages) + "\n\n"
        return self.tokenizer(text, return_tensors="pt").input_ids

    def count_message_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens of the templated prompt."""
        return int(self._input_ids(messages).shape[-1])

    def stream(self, messages: list[dict[str, str]], config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Stream decoded text as ``model.generate`` runs in a worker thread."""
        import torch
        from transformers import TextIteratorStreamer

        check_messages(messages)
        if config.grammar:
            logger.warning("the transformers backend ignores GenerationConfig.grammar (llama.cpp only)")
        input_ids = self._input_ids(messages).to(self.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "max_new_tokens": config.max_tokens,
            "streamer": streamer,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if config.temperature > 0:
            torch.manual_seed(config.seed)
            kwargs.update(do_sample=True, temperature=config.temperature, top_p=config.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if config.repeat_penalty != 1.0:
            kwargs["repetition_penalty"] = config.repeat_penalty
        if config.stop:
            kwargs.update(stop_strings=list(config.stop), tokenizer=self.tokenizer)

        worker = threading.Thread(target=self._run, args=(kwargs,), daemon=True)
        worker.start()
        text = ""
        for piece in streamer:
            if not piece:
                continue
            text += piece
            cut = _first_stop(text, config.stop)
            if cut is not None:  # stop_strings may leave the stop text in the stream
                kept = cut - (len(text) - len(piece))
                if kept > 0:
                    yield piece[:kept]
                break
            yield piece
        for _ in streamer:  # let the worker finish before returning
            pass
        worker.join()

    def _run(self, kwargs: dict[str, Any]) -> None:
        import torch

        with torch.inference_mode():
            self.model.generate(**kwargs)

    def close(self) -> None:
        """Drop the model (and free GPU memory)."""
        self.model = None  # type: ignore[assignment]
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    found = [text.find(s) for s in stops if s and s in text]
    return min(found) if found else None


_CACHE: OrderedDict[tuple[str, int, str], Generator] = OrderedDict()
_CACHE_SIZE = 3
_CACHE_LOCK = threading.Lock()


def load_generator(name: str = DEFAULT_GENERATOR, *, n_ctx: int = 4096, device: str = "auto") -> Generator:
    """A generator for a registry short name, a local GGUF/HF folder, or an HF id.

    Loaded models are kept in a small cache keyed by (resolved path, n_ctx, device), so asking
    twice returns the same object. Beyond three, the least recently used is dropped from the
    cache (not closed: a caller may still hold it; it is freed when the last reference goes).
    """
    if not name or not name.strip():
        raise ValueError("empty generator name; pass a registry name such as 'qwen2.5-0.5b'")
    resolved = resolve_generator(name)
    key = (resolved, n_ctx, device)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
        gen: Generator
        if resolved.lower().endswith(".gguf"):
            if not Path(resolved).is_file():
                raise FileNotFoundError(f"GGUF model {resolved} not found")
            gen = LlamaCppGenerator(resolved, name=name, n_ctx=n_ctx)
        else:
            gen = TransformersGenerator(resolved, name=name, n_ctx=n_ctx, device=device)
        _CACHE[key] = gen
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return gen


def clear_generator_cache() -> None:
    """Close and forget every cached generator."""
    with _CACHE_LOCK:
        while _CACHE:
            _, gen = _CACHE.popitem(last=False)
            gen.close()
