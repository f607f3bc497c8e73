"""The transformers backend: a Hugging Face causal LM (the GPU path), by id, folder or GGUF file."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rag.device import resolve_device
from rag.generation.base import Generation, GenerationConfig, Generator, check_messages

if TYPE_CHECKING:
    from transformers import BatchEncoding

logger = logging.getLogger(__name__)


class TransformersGenerator(Generator):
    """An HF checkpoint on transformers (the GPU path); ``device="auto"`` picks CUDA if present.

    ``model`` is an HF id, a local HF folder, or a local ``.gguf`` file (transformers
    de-quantises it: ~10x slower than llama.cpp on CPU, but the same weights).
    """

    def __init__(
        self,
        model: str,
        name: str | None = None,
        n_ctx: int = 4096,
        device: str = "auto",
        batch_size: int | None = None,
    ) -> None:
        try:
            import torch
            import transformers
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - core dependencies
            raise ImportError("the transformers backend needs torch and transformers installed") from exc

        self.device = resolve_device(device)
        self.batch_size = batch_size or (16 if self.device == "cuda" else 4)
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

        failure: list[BaseException] = []
        worker = threading.Thread(target=self._run, args=(kwargs, streamer, failure), daemon=True)
        worker.start()
        text = ""
        stopped_early = False
        for piece in streamer:
            if not piece:
                continue
            text += piece
            cut = _first_stop(text, config.stop)
            if cut is not None:  # stop_strings may leave the stop text in the stream
                kept = cut - (len(text) - len(piece))
                if kept > 0:
                    yield piece[:kept]
                stopped_early = True
                break
            yield piece
        if stopped_early:  # let the worker finish before returning (the stream ends once, then blocks)
            for _ in streamer:
                pass
        worker.join()
        if failure:
            raise failure[0]

    def generate_batch(
        self, conversations: Sequence[list[dict[str, str]]], config: GenerationConfig = GenerationConfig()
    ) -> list[Generation]:
        """Greedy answers for several conversations, ``batch_size`` at a time in one ``generate``
        call each (left-padded; sorted by prompt length). Sampling and grammars are not batched:
        those configs fall back to one conversation at a time."""
        import torch

        if config.temperature > 0 or config.grammar or config.repeat_penalty != 1.0:
            return super().generate_batch(conversations, config)
        for messages in conversations:
            check_messages(messages)
        prompts = [self._input_ids(m)[0].tolist() for m in conversations]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        pad = self.tokenizer.eos_token_id if self.tokenizer.pad_token_id is None else self.tokenizer.pad_token_id
        out: list[Generation | None] = [None] * len(prompts)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(prompts[i]) for i in rows)
            ids = torch.full((len(rows), width), int(pad), dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                ids[r, width - len(prompts[i]) :] = torch.tensor(prompts[i], dtype=torch.long)
                mask[r, width - len(prompts[i]) :] = 1
            t0 = time.perf_counter()
            with torch.inference_mode():
                result = self.model.generate(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    max_new_tokens=config.max_tokens,
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=int(pad),
                    **({"stop_strings": list(config.stop), "tokenizer": self.tokenizer} if config.stop else {}),
                )
            seconds = time.perf_counter() - t0
            for r, i in enumerate(rows):
                new = result[r, width:].tolist()
                text = str(self.tokenizer.decode(new, skip_special_tokens=True))
                cut = _first_stop(text, config.stop)
                text = text if cut is None else text[:cut]
                n_new = sum(1 for t in new if t != pad)
                out[i] = Generation(text, len(prompts[i]), n_new, seconds, seconds)
        return [g for g in out if g is not None]

    def _run(self, kwargs: dict[str, Any], streamer: Any, failure: list[BaseException]) -> None:
        import torch

        try:
            with torch.inference_mode():
                self.model.generate(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which re-raises it
            failure.append(exc)
            streamer.on_finalized_text("", stream_end=True)  # or the reader would wait forever

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
