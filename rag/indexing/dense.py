"""Dense retrieval: the sentence-transformers embedder and the FAISS index (flat / HNSW).

Vectors are L2-normalised, so inner product is cosine similarity. On a GPU the index moves to
faiss's GPU build when it loads, else exact search runs in torch (fp16 matmul + top-k).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.device import gpu_backend, resolve_device
from rag.errors import MissingFileError, RagError
from rag.indexing.encoder import NumpyBertEncoder, read_shape
from rag.models import resolve_embedder
from rag.types import Hit

logger = logging.getLogger(__name__)

DENSE_KINDS = ("auto", "flat", "hnsw")
FAISS_FILE = "dense.faiss"
DENSE_META = "dense.json"
_TORCH_QUERY_BATCH = 1024


def _resolve_embedder_path(name: str) -> str:
    return str(resolve_embedder(name))


def cpu_bf16_supported() -> bool:
    """Whether this CPU runs bf16 matrix products natively (oneDNN says so: AVX-512 BF16 or AMX)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001 - an old or odd build: no bf16
        return False


def _progress(items: range, show: bool, label: str) -> Any:
    if not show:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=label, unit="batch")


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


def release_freed_memory() -> None:
    """Give memory that was freed back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    Embedding on CPU frees each batch's activations, but glibc keeps the freed pages and the
    batches' different shapes fragment them: without this the peak memory of a build grows with
    the number of passages instead of staying at one batch's worth."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def quietly(load):  # noqa: ANN001, ANN202 - a loader callable and its result
    """Run a model loader without transformers' "Loading weights" bar (it would mix into output
    such as ``rag ask --json``); the setting is restored afterwards."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        return load()
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return load()
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


EMBEDDER_BACKENDS = ("auto", "torch", "numpy")
#: What loading a model that is not one (a name, a file, a folder of something else) raises.
LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError, IndexError)


class EmbedderLoadError(RagError):
    """The embedder ``name`` cannot be loaded; ``reason`` says why, in one line."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"cannot load the embedder {name!r} ({reason}): give a packaged name (see `rag models`), "
            "a sentence-transformers folder, or a Hugging Face id (needs the internet)"
        )
        self.name = name
        self.reason = reason


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= 200 else line[:199] + "…"


class Embedder:
    """A sentence-transformers model that returns float32, L2-normalised embeddings.

    ``precision``: ``"auto"`` (bf16 autocast on a CPU that supports it, fp16 on CUDA, else fp32),
    or ``"fp32"`` / ``"bf16"`` / ``"fp16"``.

    ``backend``: ``"torch"`` (sentence-transformers), ``"numpy"`` (:mod:`rag.indexing.encoder`,
    fp32 on the CPU, no torch import: what a cold ``rag ask`` wants for one question and a few
    dozen evidence sentences) or ``"auto"``, which is numpy on the CPU when the model is a BERT
    folder the numpy encoder runs and ``precision`` is ``"auto"`` or ``"fp32"``, else torch.
    Building an index asks for torch: its batched, multi-threaded kernels (and bf16 where the CPU
    has it) are faster over thousands of passages.
    """

    def __init__(
        self, name: str = "all-MiniLM-L6-v2", device: str = "auto", precision: str = "auto", backend: str = "auto"
    ) -> None:
        if backend not in EMBEDDER_BACKENDS:
            raise RagError(f"unknown embedder backend {backend!r}: choose one of {', '.join(EMBEDDER_BACKENDS)}")
        if precision not in ("auto", "fp32", "bf16", "fp16"):
            raise RagError(f"unknown precision {precision!r}: choose auto, fp32, bf16 or fp16")
        self.name = name
        self.device = resolve_device(device)
        path = _resolve_embedder_path(name)
        if Path(path).is_file():
            raise EmbedderLoadError(name, "a file, not a model folder")
        self._path = path
        self._numpy: NumpyBertEncoder | None = None
        self._hf_tokenizer: Any = None
        shape = read_shape(Path(path)) if self.device == "cpu" and precision in ("auto", "fp32") else None
        numpy_ok = shape is not None
        if backend == "numpy" and not numpy_ok:
            raise RagError(
                f"the numpy embedder backend runs a BERT sentence-transformers folder on the CPU in fp32; "
                f"{name!r} on {self.device} ({precision}) is not one: use backend='torch'"
            )
        if backend == "numpy" or (backend == "auto" and numpy_ok):
            try:
                self._numpy = NumpyBertEncoder(path, shape)
            except LOAD_ERRORS as exc:
                if isinstance(exc, RagError):
                    raise
                raise EmbedderLoadError(name, _reason(exc)) from exc
            self.backend = "numpy"
            self.precision = "fp32"
            self.dimension = self._numpy.dimension
            self.max_seq_length = self._numpy.max_seq_length
            logger.info("embedder %s on cpu (numpy, fp32), dim %d", name, self.dimension)
            return
        self.backend = "torch"
        from sentence_transformers import SentenceTransformer

        try:
            self._model = quietly(lambda: SentenceTransformer(path, device=self.device))
        except LOAD_ERRORS as exc:
            if isinstance(exc, RagError):
                raise
            raise EmbedderLoadError(name, _reason(exc)) from exc
        self._model.eval()
        if precision == "auto":
            if self.device == "cuda":
                precision = "fp16"
            else:
                precision = "bf16" if cpu_bf16_supported() else "fp32"
        self.precision = precision
        if self.device == "cuda" and precision == "fp16":
            self._model.half()
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.max_seq_length = int(self._model.max_seq_length)
        self._hf_tokenizer = self._model.tokenizer
        logger.info("embedder %s on %s (%s), dim %d", name, self.device, precision, self.dimension)

    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer (chunking counts passage sizes in its tokens); with
        the numpy backend it is loaded on first use, since a question needs none."""
        if self._hf_tokenizer is None:
            from transformers import AutoTokenizer

            try:
                self._hf_tokenizer = AutoTokenizer.from_pretrained(self._path)
            except LOAD_ERRORS as exc:
                if isinstance(exc, RagError):
                    raise
                raise EmbedderLoadError(self.name, _reason(exc)) from exc
        return self._hf_tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        """Embed ``texts`` into an ``(n, dimension)`` float32 array of unit-length rows.

        Texts are sorted by length (less padding per batch) and the original order restored; on
        CPU with ``bf16`` precision the model runs under bf16 autocast, and rows are normalised
        in fp32 afterwards, one batch at a time; on CPU the memory each batch freed is given
        back before the next (:func:`release_freed_memory`), so memory stays bounded however many
        texts there are. A progress bar (tqdm) shows when ``show_progress``.
        """
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._numpy is not None:
            return self._numpy.encode(texts)
        import torch

        order = np.argsort([-len(t) for t in texts], kind="stable")
        sorted_texts = [texts[i] for i in order]
        use_bf16 = self.device == "cpu" and self.precision == "bf16"
        parts = []
        batches = range(0, len(sorted_texts), batch_size)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
            for start in _progress(batches, show_progress, "embedding"):
                emb = self._model.encode(
                    sorted_texts[start : start + batch_size],
                    batch_size=batch_size,
                    show_progress_bar=False,
                    convert_to_tensor=True,
                    normalize_embeddings=False,
                )
                parts.append(torch.nn.functional.normalize(emb.float(), p=2, dim=1).cpu().numpy())
                if self.device == "cpu":
                    release_freed_memory()
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        out[order] = np.concatenate(parts)
        return out

    def encode_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Embed queries (the same model and normalisation as passages)."""
        return self.encode(queries, batch_size=64, show_progress=False)


@dataclass(frozen=True)
class DenseConfig:
    """FAISS index settings: ``kind`` ``"flat"`` (exact), ``"hnsw"`` (approximate) or ``"auto"``
    (flat below ``auto_threshold`` vectors, HNSW from there)."""

    kind: str = "auto"
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128
    auto_threshold: int = 200_000

    def __post_init__(self) -> None:
        if self.kind not in DENSE_KINDS:
            raise RagError(f"unknown dense index kind {self.kind!r}: choose one of {', '.join(DENSE_KINDS)}")


def _as_matrix(vectors: np.ndarray, dimension: int | None = None) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise RagError(f"vectors must be a 2-D array (n, dimension), got shape {arr.shape}")
    if dimension is not None and arr.shape[1] != dimension:
        raise RagError(f"vectors have dimension {arr.shape[1]}, the index has {dimension}")
    return np.ascontiguousarray(arr)


class DenseIndex:
    """Inner-product FAISS index over normalised vectors; row ``i`` is the ``i``-th vector added."""

    def __init__(self, index: Any, config: DenseConfig, kind: str, device: str = "cpu") -> None:
        self._index = index
        self.config = config
        self.kind = kind
        self.device = "cpu"
        self.backend = "faiss-cpu"
        self._gpu_index: Any = None
        self._matrix: Any = None  # torch fp16 matrix on the GPU
        self.mmapped = False
        if kind == "hnsw":
            self._hnsw().hnsw.efSearch = config.ef_search
        self._move_to(resolve_device(device))

    def _hnsw(self) -> Any:
        import faiss

        return faiss.downcast_index(self._index)

    @classmethod
    def build(cls, vectors: np.ndarray, config: DenseConfig = DenseConfig(), device: str = "cpu") -> DenseIndex:
        """Index ``vectors`` (rows L2-normalised) by inner product; the kind follows ``config``."""
        import faiss

        arr = _as_matrix(vectors)
        norms = np.linalg.norm(arr, axis=1)
        if arr.shape[0] and not np.allclose(norms, 1.0, atol=1e-2):
            logger.warning("dense vectors are not unit length: inner product is not cosine similarity")
        kind = config.kind
        if kind == "auto":
            kind = "flat" if arr.shape[0] < config.auto_threshold else "hnsw"
        d = arr.shape[1]
        index: faiss.Index
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        else:
            index = faiss.IndexHNSWFlat(d, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = config.ef_construction
        index.add(arr)
        return cls(index, config, kind, device=device)

    # --- device placement ---
    def _move_to(self, device: str) -> None:
        self._gpu_index = None
        self._matrix = None
        self.device, self.backend = "cpu", "faiss-cpu"
        if device != "cuda":
            return
        backend = gpu_backend()
        if backend == "faiss-gpu" and self.kind == "flat":
            try:
                import faiss

                self._gpu_res = faiss.StandardGpuResources()
                self._gpu_index = faiss.index_cpu_to_gpu(self._gpu_res, 0, self._index)
                self.device, self.backend = "cuda", "faiss-gpu"
                return
            except Exception as exc:  # noqa: BLE001 - fall back to torch
                logger.warning("faiss GPU failed (%s); using exact search in torch", exc)
        import torch

        vectors = self._index.reconstruct_n(0, self._index.ntotal)
        self._matrix = torch.from_numpy(np.ascontiguousarray(vectors)).to("cuda", torch.float16)
        self.device, self.backend = "cuda", "torch"

    # --- properties ---
    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return self.ntotal

    def vectors(self) -> np.ndarray:
        """Every row's vector, in row order (as they were added)."""
        if self.ntotal == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_n(0, self.ntotal), dtype=np.float32)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (numbered after the existing ones); GPU copies are refreshed."""
        arr = _as_matrix(vectors, self.dimension)
        if self.mmapped:
            # faiss aborts the process when asked to grow a memory-mapped vector store
            raise RagError("cannot add to a memory-mapped dense index: load it with mmap=False")
        self._index.add(arr)
        if self.device == "cuda":
            self._move_to("cuda")

    def search(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """Top ``k`` rows by inner product for each query row (fewer when the index is smaller)."""
        if k <= 0:
            raise RagError(f"k must be a positive number of results, got {k}")
        q = _as_matrix(queries, self.dimension)
        n = min(k, self.ntotal)
        if n == 0 or q.shape[0] == 0:
            return [[] for _ in range(q.shape[0])]
        if self._matrix is not None:
            scores, rows = self._torch_search(q, n)
        else:
            index = self._gpu_index if self._gpu_index is not None else self._index
            scores, rows = index.search(q, n)
        out: list[list[Hit]] = []
        for srow, irow in zip(scores, rows, strict=True):
            hits = [(int(r), float(s)) for r, s in zip(irow, srow, strict=True) if r >= 0]
            out.append([Hit(row=r, score=s, rank=i + 1) for i, (r, s) in enumerate(hits)])
        return out

    def _torch_search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        all_scores, all_rows = [], []
        for start in range(0, q.shape[0], _TORCH_QUERY_BATCH):
            qt = torch.from_numpy(q[start : start + _TORCH_QUERY_BATCH]).to("cuda", torch.float16)
            s, r = torch.topk(qt @ self._matrix.T, k, dim=1)
            all_scores.append(s.float().cpu().numpy())
            all_rows.append(r.cpu().numpy())
        return np.concatenate(all_scores), np.concatenate(all_rows)

    def save(self, directory: Path) -> None:
        """Write ``dense.faiss`` (FAISS's own format, no pickle) and ``dense.json`` into ``directory``."""
        import faiss

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(directory / FAISS_FILE))
        meta = {"kind": self.kind, "config": asdict(self.config), "ntotal": self.ntotal, "dimension": self.dimension}
        (directory / DENSE_META).write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, mmap: bool = False, device: str = "auto") -> DenseIndex:
        """Load an index written by :meth:`save`; ``mmap`` maps the vectors instead of reading them."""
        import faiss

        directory = Path(directory)
        meta_path, faiss_path = directory / DENSE_META, directory / FAISS_FILE
        for p in (meta_path, faiss_path):
            if not p.is_file():
                raise MissingFileError(f"no dense index in {directory}: {p.name} is missing")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        flags = 0
        if mmap:
            # IO_FLAG_MMAP_IFC maps the flat vector storage (flat and HNSW); plain IO_FLAG_MMAP
            # only maps IVF lists and silently reads flat indexes into memory.
            flags = getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP) | faiss.IO_FLAG_READ_ONLY
        index = faiss.read_index(str(faiss_path), flags)
        out = cls(index, DenseConfig(**meta["config"]), meta["kind"], device=device)
        out.mmapped = mmap
        return out
