"""The llama.cpp backend: a GGUF model on the CPU (or a GPU build of llama.cpp)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rag import kvcache
from rag.device import cpu_threads
from rag.errors import MissingFileError, RagError
from rag.generation.base import GenerationConfig, Generator, check_messages
from rag.llama import open_llama

if TYPE_CHECKING:
    from llama_cpp.llama_types import CreateChatCompletionStreamResponse


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
            raise MissingFileError(f"GGUF model {path} not found; pass a registry name or a .gguf path")
        threads = n_threads or cpu_threads()
        self.name = name or path.stem
        self.n_ctx = n_ctx
        self.path = path
        self.llama = open_llama(
            path,
            n_ctx=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            seed=seed,
            verbose=False,
        )
        self._formatter: Any | None = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._prefixes: list[list[int]] = []  # primed prefixes: a prompt starts after one or from nothing

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
            raise RagError(
                "the GBNF grammar does not parse (llama.cpp logs why with verbose output); it needs a 'root' rule"
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

    def _start_after_prefix(self, messages: list[dict[str, str]]) -> None:
        """Leave the context holding exactly the longest primed prefix ``messages`` start with
        (restored from its saved state if another prompt pushed it out), or nothing: the prompt
        is then always evaluated in the same pieces, the prefix and the rest, whatever was asked
        before. (llama-cpp-python would otherwise reuse whatever the last prompt shares with
        this one, and a greedy answer could change with the question asked before it: llama.cpp's
        numbers depend slightly on how the tokens are split into batches.)"""
        tokens = self._prompt_tokens(messages)
        llama = self.llama
        prefix = max(
            (p for p in self._prefixes if tokens is not None and len(tokens) > len(p) and tokens[: len(p)] == p),
            key=len,
            default=None,
        )
        if prefix is None:
            llama.reset()
            return
        if not (llama.n_tokens >= len(prefix) and llama.input_ids[: len(prefix)].tolist() == prefix):
            llama.reset()
            kvcache.prime(llama, self.path, prefix)
        llama.n_tokens = len(prefix)  # the rest is evaluated after it; eval() clears the KV cells past it

    def prime(self, prompts: Sequence[list[dict[str, str]]]) -> str | None:
        """Evaluate the tokens the templated ``prompts`` (two or more) share, less the last one
        (it may merge with what follows), or restore them from the state an earlier process saved
        (``rag.kvcache``); every later prompt that starts the same way is evaluated after them
        (:meth:`stream`). ``"kept"`` when they were readied before. None when there is nothing
        to share (fewer than 16 tokens, or no chat template)."""
        token_lists = [self._prompt_tokens(m) for m in prompts]
        if len(token_lists) < 2 or any(t is None for t in token_lists):
            return None
        shared = [int(t) for t in os.path.commonprefix(cast("list[list[int]]", token_lists))[:-1]]
        if len(shared) < 16:
            return None
        with self._lock:
            if shared in self._prefixes:  # readied before: the next prompt starts after it (or restores it)
                return "kept"
            how = kvcache.prime(self.llama, self.path, shared)
            self._prefixes.append(shared)
            return how

    def stream(self, messages: list[dict[str, str]], config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Stream the answer (one piece per token) via ``create_chat_completion(stream=True)``."""
        check_messages(messages)
        grammar = self.grammar(config.grammar) if config.grammar else None
        with self._lock:  # one llama context: never two generations at once
            self._start_after_prefix(messages)
            # stream=True: llama.cpp returns the chunk iterator, never a whole response
            chunks = cast(
                "Iterator[CreateChatCompletionStreamResponse]",
                self.llama.create_chat_completion(
                    messages=messages,
                    stream=True,
                    max_tokens=config.max_tokens,
                    temperature=config.temperature,
                    top_p=config.top_p,
                    seed=config.seed,
                    stop=list(config.stop) or None,
                    repeat_penalty=config.repeat_penalty,
                    grammar=grammar,
                ),
            )
            try:
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {})
                    content = cast("str | None", delta.get("content"))  # an empty delta has no "content"
                    if content:
                        yield content
            except ValueError as exc:
                if "context window" not in str(exc):
                    raise
                raise RagError(
                    f"the prompt does not fit {self.name}'s context window of {self.n_ctx} tokens ({exc}): "
                    "ask with fewer passages (--k) or a shorter question"
                ) from exc

    def close(self) -> None:
        """Free the llama.cpp model and context."""
        llama = getattr(self, "llama", None)
        if llama is not None:
            llama.close()
