"""Judges on Hugging Face models (torch + transformers): an NLI cross-encoder and TRUE.

Both load on first use and judge in batches; ``rag.judges.load_judge("nli:<id>")`` and
``load_judge("true")`` build them.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from rag.device import resolve_device
from rag.errors import RagError
from rag.judges.base import Judge

TRUE_MODEL = "google/t5_xxl_true_nli_mixture"


def _entailment_index(id2label: dict[Any, str]) -> int:
    """The class index whose label names entailment (e.g. 'ENTAILMENT', 'entailment')."""
    hits = [int(i) for i, lab in id2label.items() if "entail" in str(lab).lower() and "not" not in str(lab).lower()]
    if len(hits) != 1:
        raise RagError(
            f"cannot find the entailment label in the model's id2label {dict(id2label)}: use an NLI model whose "
            "config names an 'entailment' class"
        )
    return hits[0]


class _HuggingFaceJudge(Judge):
    """Shared by the transformers judges: lazy loading and batching; subclasses judge one batch."""

    def __init__(self, model: str, *, device: str, batch_size: int, name: str, official: bool) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.name = name
        self.official = official
        self.batched = True
        self._tok: Any = None
        self._net: Any = None

    @abstractmethod
    def _load(self) -> None:
        """Load tokenizer and model into ``self._tok`` / ``self._net`` on ``self._device``."""

    @abstractmethod
    def _judge(self, batch: Sequence[tuple[str, str]]) -> list[bool]:
        """Verdicts for one batch (called under ``torch.inference_mode``)."""

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        if not pairs:
            return []
        if self._net is None:
            self._device = resolve_device(self.device)
            self._load()
        import torch

        out: list[bool] = []
        with torch.inference_mode():
            for i in range(0, len(pairs), self.batch_size):
                out.extend(self._judge(pairs[i : i + self.batch_size]))
        return out


class NLIJudge(_HuggingFaceJudge):
    """An NLI cross-encoder (``AutoModelForSequenceClassification``) by Hugging Face id or path.

    The premise is the first segment, the hypothesis the second; entailed iff the argmax class is
    the one ``config.id2label`` names entailment. Long inputs are truncated from the premise. The
    model loads on first use.
    """

    def __init__(self, model: str, *, device: str = "auto", batch_size: int = 16) -> None:
        if not model:
            raise RagError(
                "NLIJudge needs a Hugging Face id or a local path, e.g. 'nli:cross-encoder/nli-deberta-v3-base'"
            )
        super().__init__(model, device=device, batch_size=batch_size, name=f"nli:{model}", official=False)
        self._entail = -1

    def _load(self) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(self.model)
        self._net = AutoModelForSequenceClassification.from_pretrained(self.model).to(self._device).eval()
        self._entail = _entailment_index(self._net.config.id2label)

    def _judge(self, batch: Sequence[tuple[str, str]]) -> list[bool]:
        """Argmax-is-entailment verdicts."""
        enc = self._tok(
            [p for p, _ in batch], [h for _, h in batch], padding=True, truncation="only_first", return_tensors="pt"
        ).to(self._device)
        logits = self._net(**enc).logits
        return [bool(x) for x in (logits.argmax(dim=-1) == self._entail).tolist()]


class TrueJudge(_HuggingFaceJudge):
    """TRUE (``google/t5_xxl_true_nli_mixture``), ALCE's judge: ``premise: {P} hypothesis: {H}``,
    entailed iff the model generates exactly "1". Needs the model from the Hugging Face hub (or a
    local copy); it is T5-11B, so a GPU is advisable. The model loads on first use."""

    def __init__(self, model: str = TRUE_MODEL, *, device: str = "auto", batch_size: int = 8) -> None:
        if not model:
            raise RagError(f"TrueJudge needs a Hugging Face id or a local path, e.g. {TRUE_MODEL!r}")
        super().__init__(model, device=device, batch_size=batch_size, name=f"true:{model}", official=True)

    def _load(self) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        dtype: Any = "auto"
        if self._device.startswith("cuda"):
            import torch

            dtype = torch.bfloat16
        self._tok = AutoTokenizer.from_pretrained(self.model)
        self._net = AutoModelForSeq2SeqLM.from_pretrained(self.model, torch_dtype=dtype).to(self._device).eval()

    def _judge(self, batch: Sequence[tuple[str, str]]) -> list[bool]:
        """Greedy generation (at most 10 tokens, as ALCE); "1" means entailed."""
        texts = [f"premise: {p} hypothesis: {h}" for p, h in batch]
        enc = self._tok(texts, return_tensors="pt", padding=True).to(self._device)
        gen = self._net.generate(**enc, max_new_tokens=10)
        return [t == "1" for t in self._tok.batch_decode(gen, skip_special_tokens=True)]
