"""``TransformersJudge``: the LLM judge's yes/no question asked of any Hugging Face causal LM, in
batches (the GPU path of judging; on a CPU it runs too, slower than llama.cpp)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.device import resolve_device
from rag.errors import RagError
from rag.judges.base import Judge
from rag.judges.llm import _NO, _YES, DEFAULT_LLM_JUDGE_MODEL, DEFAULT_PROMPT, checked_settings, yes_share
from rag.judges.llm import PROMPTS as LLM_PROMPTS
from rag.models import resolve_generator

logger = logging.getLogger(__name__)

_TRUNCATION_NOTE = " [...]"


class TransformersJudge(Judge):
    """The :class:`rag.judges.llm.LLMJudge` prompt and verdict rule on transformers, batched.

    ``model``: a registry short name (its packaged GGUF, de-quantised by transformers), a
    ``.gguf`` path, a local HF folder or an HF id. Pairs are sorted by length and run
    ``batch_size`` at a time, left-padded (positions counted from each row's first real token,
    so a pair's probability does not depend on its batch companions beyond float rounding).
    ``probability`` is P(yes) / (P(yes) + P(no)) over the first answer token; ``entails`` is
    ``probability >= threshold`` (the model's calibrated threshold when the registry has one).

    Verdicts agree with llama.cpp's on the same model up to quantisation: transformers computes
    with de-quantised weights in fp32 (fp16 on a GPU), llama.cpp with the quantised ones
    (tests/test_hf_judge.py states the agreement on the labelled pairs).
    """

    def __init__(
        self,
        model: str = DEFAULT_LLM_JUDGE_MODEL,
        *,
        device: str = "auto",
        batch_size: int | None = None,
        n_ctx: int = 4096,
        threshold: float | None = None,
        prompt: str = DEFAULT_PROMPT,
    ) -> None:
        threshold = checked_settings(model, threshold, prompt)
        self.model = model
        self.device = resolve_device(device)
        self.batch_size = batch_size or (32 if self.device == "cuda" else 8)
        if self.batch_size < 1:
            raise RagError(f"batch_size must be at least 1, got {self.batch_size}")
        self.n_ctx = n_ctx
        self.threshold = threshold
        self.prompt = prompt
        label = Path(model).name if Path(model).suffix == ".gguf" else model
        self.name = f"hf:{label}"
        self.official = False
        self.batched = True
        self._model: Any = None
        self._tokenizer: Any = None
        self._yes: list[int] = []
        self._no: list[int] = []

    @property
    def cache_id(self) -> str:
        return f"{self.name}|prompt={self.prompt}|threshold={self.threshold}|n_ctx={self.n_ctx}"

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = resolve_generator(self.model)
        extra: dict[str, Any] = {}
        if source.lower().endswith(".gguf"):
            if not Path(source).is_file():
                raise RagError(f"GGUF model {source} not found")
            source, extra = str(Path(source).parent), {"gguf_file": Path(source).name}
        logger.info("loading judge model %s on %s", self.model, self.device)
        tok = AutoTokenizer.from_pretrained(source, **extra)
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        dtype = torch.float16 if self.device == "cuda" else torch.float32
        dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        model = AutoModelForCausalLM.from_pretrained(source, **extra, **{dtype_kw: dtype})
        model.to(self.device)  # type: ignore[arg-type]
        model.eval()
        self._tokenizer, self._model = tok, model
        self._yes = self._first_ids(_YES)
        self._no = [t for t in self._first_ids(_NO) if t not in self._yes]
        if not self._yes or not self._no:
            raise RagError(f"model {self.model!r} has no usable yes/no tokens for a judge")

    def _first_ids(self, words: Sequence[str]) -> list[int]:
        ids: list[int] = []
        for w in words:
            toks = self._tokenizer.encode(w, add_special_tokens=False)
            if toks and toks[0] not in ids:
                ids.append(int(toks[0]))
        return ids

    def _render(self, premise: str, hypothesis: str) -> str:
        system, template = LLM_PROMPTS[self.prompt]
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": template.format(premise=premise, hypothesis=hypothesis)},
        ]
        if getattr(self._tokenizer, "chat_template", None):
            return str(self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        return (
            "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
            + "<|im_start|>assistant\n"
        )

    def _ids(self, premise: str, hypothesis: str) -> list[int]:
        ids = list(self._tokenizer.encode(self._render(premise, hypothesis), add_special_tokens=False))
        over = len(ids) - (self.n_ctx - 8)
        if over <= 0:
            return ids
        premise_ids = self._tokenizer.encode(premise, add_special_tokens=False)
        keep = len(premise_ids) - over - 8
        if keep <= 0:
            raise RagError(f"claim too long for the judge's context ({len(ids)} tokens > n_ctx={self.n_ctx})")
        cut = self._tokenizer.decode(premise_ids[:keep])
        logger.warning("judge premise truncated from %d to %d tokens", len(premise_ids), keep)
        return list(self._tokenizer.encode(self._render(cut + _TRUNCATION_NOTE, hypothesis), add_special_tokens=False))

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """P(yes) / (P(yes) + P(no)) for each pair, computed in length-sorted batches."""
        import torch

        self._load()
        encoded = [self._ids(p, h) for p, h in pairs]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = [0.0] * len(encoded)
        pad = int(self._tokenizer.pad_token_id)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                seq = encoded[i]
                ids[r, width - len(seq) :] = torch.tensor(seq, dtype=torch.long)
                mask[r, width - len(seq) :] = 1
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = self._model(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    position_ids=positions.to(self.device),
                ).logits[:, -1, :]
            logits = logits.float().cpu()
            for r, i in enumerate(rows):
                out[i] = yes_share(logits[r], self._yes, self._no)
        return out

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Verdicts; a hypothesis with no words is not entailed (the model is not asked)."""
        asked = [i for i, (_, h) in enumerate(pairs) if h.strip()]
        probs = self.probabilities([pairs[i] for i in asked]) if asked else []
        verdicts = [False] * len(pairs)
        for i, p in zip(asked, probs, strict=True):
            verdicts[i] = p >= self.threshold
        return verdicts
