"""The transformers backend: a Hugging Face causal LM (the GPU path), by id, folder or GGUF file."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rag.device import resolve_device
from rag.generation.base import GenerationConfig, Generator, check_messages

if TYPE_CHECKING:
    from transformers import BatchEncoding

logger = logging.getLogger(__name__)


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
        self.model.to(self.device)  # type: ignore[arg-type]  # transformers: @wraps(Module.to) hides the bound self
        self.model.eval()
        limit = getattr(self.model.config, "max_position_embeddings", None) or n_ctx
        self.n_ctx = min(n_ctx, int(limit))

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (no special tokens)."""
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def _input_ids(self, messages: list[dict[str, str]]) -> Any:
        if getattr(self.tokenizer, "chat_template", None):
            enc = cast(
                "BatchEncoding",  # return_dict=True
                self.tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
                ),
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
            "pad_token_id": self.tokenizer.eos_token_id
            if self.tokenizer.pad_token_id is None
            else self.tokenizer.pad_token_id,
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
