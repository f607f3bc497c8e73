"""A BERT sentence encoder in numpy: the query side of dense retrieval without torch.

``rag ask`` embeds one question and a few dozen evidence sentences. Importing torch and
sentence-transformers for that costs about 7.5 s of a cold start on a 2-core laptop, far more than
the encoding itself (tens of milliseconds). :class:`NumpyBertEncoder` reads the same
sentence-transformers folder (``model.safetensors``, ``config.json``, ``tokenizer.json``,
``1_Pooling/config.json``) and computes the same function as ``SentenceTransformer.encode``
with mean pooling and L2 normalisation, in float32, with the ``tokenizers`` and ``safetensors``
packages only.

Only what all-MiniLM-L6-v2 and models like it use is supported: a ``bert`` encoder with absolute
positions and exact (erf) GELU, mean pooling and an optional ``Normalize`` module.
:func:`read_shape` says whether a folder qualifies; otherwise the torch path in
:mod:`rag.indexing.dense` is used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import RagError

_WEIGHTS = "model.safetensors"
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
# A text joins a batch only when at least this fraction of the batch's longest (less padding).
_SAME_BATCH = 0.8


@dataclass(frozen=True)
class BertShape:
    """What :class:`NumpyBertEncoder` needs from a model's ``config.json``."""

    hidden: int
    heads: int
    layers: int
    eps: float
    max_seq_length: int
    normalize: bool


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_shape(folder: Path) -> BertShape | None:
    """The model's shape when ``folder`` is a sentence-transformers BERT folder this module can run
    (mean pooling, absolute positions, erf GELU, weights in safetensors, a fast tokenizer); else
    None."""
    folder = Path(folder)
    try:
        if not all((folder / f).is_file() for f in (_WEIGHTS, "config.json", "tokenizer.json", "modules.json")):
            return None
        config = _read_json(folder / "config.json")
        modules = _read_json(folder / "modules.json")
        types = [m.get("type") for m in modules]
        # The transformer (weights in the folder itself), then pooling, then at most Normalize.
        if (
            len(types) < 2
            or types[0] != _TRANSFORMER
            or modules[0].get("path", "") != ""
            or types[1] != _POOLING
            or any(t != _NORMALIZE for t in types[2:])
        ):
            return None
        pooling = _read_json(folder / modules[1]["path"] / "config.json")
        mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
            pooling.get(k)
            for k in (
                "pooling_mode_cls_token",
                "pooling_mode_max_tokens",
                "pooling_mode_mean_sqrt_len_tokens",
                "pooling_mode_weightedmean_tokens",
                "pooling_mode_lasttoken",
            )
        )
        if (
            config.get("model_type") != "bert"
            or config.get("hidden_act") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
            or not mean_only
        ):
            return None
        st_config = folder / "sentence_bert_config.json"
        max_len = int(_read_json(st_config).get("max_seq_length") or 512) if st_config.is_file() else 512
        return BertShape(
            hidden=int(config["hidden_size"]),
            heads=int(config["num_attention_heads"]),
            layers=int(config["num_hidden_layers"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
            max_seq_length=min(max_len, int(config.get("max_position_embeddings", 512))),
            normalize=_NORMALIZE in types,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, ``x * (1 + erf(x / sqrt 2)) / 2``, computed in place in float32.

    numpy has no erf, and scipy is a heavy import for one function: erf here is Abramowitz and
    Stegun's 7.1.26 (absolute error under 1.5e-7, about float32's own resolution)."""
    z = np.abs(x) * np.float32(1.0 / np.sqrt(2.0))
    t = np.float32(0.3275911) * z
    t += 1.0
    np.reciprocal(t, out=t)
    poly = np.float32(1.061405429) * t
    for a in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(a)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z  # erfc(|x| / sqrt 2)
    # 1 + erf(x / sqrt 2) is 2 - erfc for x >= 0 and erfc for x < 0
    one_plus_erf = np.where(x >= 0, np.float32(2.0) - poly, poly)
    one_plus_erf *= x
    one_plus_erf *= np.float32(0.5)
    return one_plus_erf


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


class NumpyBertEncoder:
    """Mean-pooled, L2-normalised BERT sentence embeddings computed in numpy (float32)."""

    def __init__(self, folder: str | Path, shape: BertShape | None = None) -> None:
        """Load ``folder``; ``shape`` is its :func:`read_shape` when the caller has read it already."""
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        shape = shape or read_shape(folder)
        if shape is None:
            raise RagError(f"{folder} is not a BERT sentence-transformers folder the numpy encoder can run")
        self.shape = shape
        self.dimension = shape.hidden
        self.max_seq_length = shape.max_seq_length
        raw = load_file(str(folder / _WEIGHTS))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in raw else ""
        self._w = {k[len(prefix) :]: v.astype(np.float32, copy=False) for k, v in raw.items() if k.startswith(prefix)}
        # Linear layers are stored (out, in); keep them transposed once for x @ W.
        for key in list(self._w):
            if key.endswith(".weight") and key.startswith("encoder.") and "LayerNorm" not in key:
                self._w[key] = np.ascontiguousarray(self._w[key].T)
        # Query, key and value as one (hidden, 3 * hidden) product: one BLAS call instead of three.
        for i in range(shape.layers):
            p = f"encoder.layer.{i}.attention.self."
            names = ("query", "key", "value")
            self._w[p + "qkv.weight"] = np.ascontiguousarray(np.hstack([self._w.pop(p + n + ".weight") for n in names]))
            self._w[p + "qkv.bias"] = np.concatenate([self._w.pop(p + n + ".bias") for n in names])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=shape.max_seq_length)
        self.tokenizer.no_padding()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with the special tokens, truncated to ``max_seq_length`` as sentence-transformers does."""
        return [enc.ids for enc in self.tokenizer.encode_batch(list(texts))]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, s = self._w, self.shape
        n, length = ids.shape
        head = s.hidden // s.heads
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], s.eps)
        bias = np.where(mask[:, None, None, :] > 0, np.float32(0.0), np.finfo(np.float32).min).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head))
        for i in range(s.layers):
            p = f"encoder.layer.{i}."

            def linear(inp: np.ndarray, name: str, p: str = p) -> np.ndarray:
                # 2-D products go to BLAS as one call; stacked 3-D ones would not.
                flat = inp.reshape(-1, inp.shape[-1]) @ w[p + name + ".weight"]
                flat += w[p + name + ".bias"]
                return flat.reshape(n, length, -1)

            def split(t: np.ndarray) -> np.ndarray:
                return np.ascontiguousarray(t.reshape(n, length, s.heads, head).transpose(0, 2, 1, 3))

            qkv = linear(x, "attention.self.qkv")
            q, k, v = (split(qkv[..., j * s.hidden : (j + 1) * s.hidden]) for j in range(3))
            scores = (q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, s.hidden)
            x = _layer_norm(
                linear(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                s.eps,
            )
            inner = _gelu(linear(x, "intermediate.dense"))
            x = _layer_norm(
                linear(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                s.eps,
            )
        m = mask[:, :, None].astype(np.float32)
        pooled = (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), np.float32(1e-9))
        return pooled.astype(np.float32)

    def encode(self, texts: Sequence[str], batch_tokens: int = 2048) -> np.ndarray:
        """Embed ``texts`` into an ``(n, dimension)`` float32 array; rows are unit length when the
        model ends in ``Normalize`` (all-MiniLM-L6-v2 does). Texts are taken longest first, in
        batches of at most ``batch_tokens`` padded tokens whose texts are all at least 0.8 times
        as long as the batch's longest: a question's evidence sentences run from 5 to 60 tokens,
        and one batch for all of them would be half padding. The input order is kept."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        start = 0
        while start < len(order):
            length = len(ids[order[start]])  # the longest of this batch
            end = start + 1
            while (
                end < len(order)
                and (end - start + 1) * length <= batch_tokens
                and len(ids[order[end]]) >= _SAME_BATCH * length
            ):
                end += 1
            rows = order[start:end]
            start = end
            batch = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.int64)
            for j, i in enumerate(rows):
                batch[j, : len(ids[i])] = ids[i]
                mask[j, : len(ids[i])] = 1
            out[rows] = self._forward(batch, mask)
        if self.shape.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.maximum(norms, np.float32(1e-12))
        return out
