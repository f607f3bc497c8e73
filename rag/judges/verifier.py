"""The verifier: a small cross-encoder trained here to say whether a passage supports a sentence.

Contract: :class:`VerifierJudge` answers ``entails_batch(pairs)`` with ``P(supported) >= threshold``
and gives the probabilities themselves (:meth:`VerifierJudge.probabilities`); the threshold and the
calibration come from the card that ships beside the trained part.

The network (:class:`VerifierModel`) is the packaged all-MiniLM-L6-v2 encoder, unchanged, read
as a cross-encoder (``[CLS] premise [SEP] sentence [SEP]``, the premise truncated first), with
low-rank adapters on the attention and feed-forward projections of every layer and a linear head
on the mean of the last layer's states. Only the adapters and the head are trained
(``experiments/verifier/train.py``); they ship as ``rag/resources/verifier/adapter.safetensors``
(safetensors, no pickle) with ``card.json`` (data, command, seed, time, metrics, threshold).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.device import resolve_device
from rag.errors import MissingFileError, RagError
from rag.indexing.dense import cpu_bf16_supported, quietly
from rag.judges.base import Judge
from rag.models import resolve_embedder

VERIFIER_DIR = Path(__file__).resolve().parents[1] / "resources" / "verifier"
ADAPTER_FILE = "adapter.safetensors"
CARD_FILE = "card.json"
BASE_MODEL = "all-MiniLM-L6-v2"
# The projections that get adapters, by the end of their module name in a BERT encoder layer.
_TARGETS = (
    r"attention\.self\.query",
    r"attention\.self\.key",
    r"attention\.self\.value",
    r"attention\.output\.dense",
    r"intermediate\.dense",
    r"layer\.\d+\.output\.dense",
)


@dataclass(frozen=True)
class VerifierShape:
    """The trained part's shape: adapter ``rank`` and ``alpha`` (scale ``alpha / rank``), the
    projections adapted (regexes on module names) and the longest input in tokens."""

    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = _TARGETS
    max_length: int = 384

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifierShape:
        return cls(
            rank=int(data["rank"]),
            alpha=float(data["alpha"]),
            targets=tuple(data["targets"]),
            max_length=int(data["max_length"]),
        )


@dataclass(frozen=True)
class Card:
    """What ``card.json`` says: the shape, the decision threshold on the calibrated probability,
    the calibration temperature, and the record of how it was trained (kept as read)."""

    shape: VerifierShape
    threshold: float
    temperature: float = 1.0
    record: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Card:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                shape=VerifierShape.from_dict(data["shape"]),
                threshold=float(data["threshold"]),
                temperature=float(data.get("temperature", 1.0)),
                record=data,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RagError(f"cannot read the verifier's card {path}: {exc}") from exc


class VerifierModel:
    """The cross-encoder: base encoder (frozen) + adapters + head, on ``device``.

    ``trainable()`` lists the parameters a trainer updates; ``save_trained`` / ``load_trained``
    write and read exactly those, as safetensors."""

    def __init__(self, shape: VerifierShape = VerifierShape(), *, device: str = "cpu", seed: int = 0) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.shape = shape
        self.device = device
        base = resolve_embedder(BASE_MODEL)
        torch.manual_seed(seed)
        self.tokenizer = AutoTokenizer.from_pretrained(str(base))
        self.encoder = quietly(lambda: AutoModel.from_pretrained(str(base))).to(device)
        self.encoder.requires_grad_(False)
        self.adapters = torch.nn.ParameterDict()
        self._dropout = torch.nn.Dropout(0.1)
        scale = shape.alpha / shape.rank
        patterns = [re.compile(rf"(^|\.){t}$") for t in shape.targets]
        for name, module in self.encoder.named_modules():
            if isinstance(module, torch.nn.Linear) and any(p.search(name) for p in patterns):
                key = name.replace(".", "__")
                down = torch.nn.Parameter(torch.randn(shape.rank, module.in_features, device=device) / shape.rank)
                up = torch.nn.Parameter(torch.zeros(module.out_features, shape.rank, device=device))
                self.adapters[f"{key}__down"] = down
                self.adapters[f"{key}__up"] = up
                module.register_forward_hook(self._adapter_hook(down, up, scale))
        if not self.adapters:
            raise RagError(f"no projection of {BASE_MODEL} matches the verifier's targets {shape.targets}")
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1).to(device)
        self.bf16 = device == "cpu" and cpu_bf16_supported()

    def _adapter_hook(self, down: Any, up: Any, scale: float) -> Any:
        def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> Any:
            return output + (self._dropout(inputs[0]) @ down.t() @ up.t()) * scale

        return hook

    def trainable(self) -> dict[str, Any]:
        """The trained parameters by name (adapters, then ``head.weight`` / ``head.bias``)."""
        out = dict(self.adapters.items())
        out["head.weight"] = self.head.weight
        out["head.bias"] = self.head.bias
        return out

    def train(self, mode: bool = True) -> None:
        self.encoder.train(mode)
        self._dropout.train(mode)
        self.head.train(mode)

    def encode(self, pairs: Sequence[tuple[str, str]]) -> Any:
        """Tokenised ``(premise, hypothesis)`` pairs, the premise truncated first."""
        return self.tokenizer(
            [p for p, _ in pairs],
            [h for _, h in pairs],
            padding=True,
            truncation="only_first",
            max_length=self.shape.max_length,
            return_tensors="pt",
        ).to(self.device)

    def logits(self, enc: Any) -> Any:
        """One logit a pair (supported when high), from tokenised pairs."""
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            states = self.encoder(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(self._dropout(pooled.float())).squeeze(-1)

    def save_trained(self, path: Path) -> None:
        from safetensors.torch import save_file

        save_file({k: v.detach().float().cpu().contiguous() for k, v in self.trainable().items()}, str(path))

    def load_trained(self, path: Path) -> None:
        import torch
        from safetensors.torch import load_file

        tensors = load_file(str(path))
        params = self.trainable()
        if set(tensors) != set(params):
            missing, extra = sorted(set(params) - set(tensors)), sorted(set(tensors) - set(params))
            raise RagError(
                f"verifier weights {path} do not fit its shape (missing {missing[:3]}, unexpected {extra[:3]})"
            )
        with torch.no_grad():
            for name, value in tensors.items():
                if params[name].shape != value.shape:
                    raise RagError(
                        f"verifier weights {path}: {name} is {tuple(value.shape)}, expected {tuple(params[name].shape)}"
                    )
                params[name].copy_(value.to(self.device))

    def scores(self, pairs: Sequence[tuple[str, str]], batch_size: int = 16) -> list[float]:
        """Logits for ``pairs`` in order (inference: batches of similar length)."""
        import torch

        if not pairs:
            return []
        self.train(False)
        order = sorted(range(len(pairs)), key=lambda i: -len(pairs[i][0]) - len(pairs[i][1]))
        out = [0.0] * len(pairs)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                values = self.logits(self.encode([pairs[i] for i in rows])).float().tolist()
                for i, value in zip(rows, values, strict=True):
                    out[i] = float(value)
        return out


def adapter_digest(folder: Path = VERIFIER_DIR) -> str:
    """The first 12 hex digits of the trained part's sha256 (what a verdict cache keys by)."""
    return hashlib.sha256((folder / ADAPTER_FILE).read_bytes()).hexdigest()[:12]


class VerifierJudge(Judge):
    """The trained verifier as a judge: supported iff the calibrated probability reaches the
    card's threshold (or ``threshold``). Loads on first use."""

    batched = True

    def __init__(self, folder: Path = VERIFIER_DIR, *, device: str = "auto", threshold: float | None = None) -> None:
        self.folder = Path(folder)
        for needed in (ADAPTER_FILE, CARD_FILE):
            if not (self.folder / needed).is_file():
                raise MissingFileError(f"the verifier's {needed} is not in {self.folder}: reinstall rag or train it")
        self.card = Card.read(self.folder / CARD_FILE)
        self.threshold = self.card.threshold if threshold is None else float(threshold)
        self.device = device
        self.name = "verifier"
        self._digest = adapter_digest(self.folder)
        self._model: VerifierModel | None = None

    @property
    def cache_id(self) -> str:
        """The trained weights' digest and the threshold: new weights never reuse old verdicts."""
        return f"verifier:{self._digest}:t{self.threshold:g}"

    def _loaded(self) -> VerifierModel:
        if self._model is None:
            model = VerifierModel(self.card.shape, device=resolve_device(self.device))
            model.load_trained(self.folder / ADAPTER_FILE)
            self._model = model
        return self._model

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """Calibrated P(supported) for ``(premise, hypothesis)`` pairs, in order."""
        import math

        t = self.card.temperature
        return [1.0 / (1.0 + math.exp(-s / t)) for s in self._loaded().scores(pairs)]

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        return [p >= self.threshold for p in self.probabilities(pairs)]

    def close(self) -> None:
        self._model = None


def card_dict(shape: VerifierShape, threshold: float, temperature: float, record: dict[str, Any]) -> dict[str, Any]:
    """What ``card.json`` holds (``shape`` as lists, so it reads back with :meth:`Card.read`)."""
    return {
        "shape": asdict(shape) | {"targets": list(shape.targets)},
        "threshold": threshold,
        "temperature": temperature,
        **record,
    }
