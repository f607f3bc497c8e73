"""Device selection: ``auto`` | ``cpu`` | ``cuda``, and which GPU search path is available."""

from __future__ import annotations

import logging
import os

from rag.errors import RagError

logger = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def cpu_threads() -> int:
    """Threads a model may use: ``$RAG_THREADS`` when set (a Ray worker sets it to its share of
    the machine), else every core."""
    value = os.environ.get("RAG_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return os.cpu_count() or 1


# Device files a GPU driver creates: NVIDIA's, AMD ROCm's (torch.cuda covers both) and WSL's.
_GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def gpu_driver_present() -> bool:
    """True when a GPU driver's device file exists. Without one torch cannot see a GPU, so the
    (slow) torch import is skipped: a CPU-only ``rag ask`` never loads torch."""
    return any(os.path.exists(p) for p in _GPU_DEVICE_FILES)


def _cuda_available() -> bool:
    if not gpu_driver_present():
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str = "auto") -> str:
    """Turn a device setting into ``"cpu"`` or ``"cuda"``.

    ``"auto"`` is ``"cuda"`` only when torch sees a GPU, else ``"cpu"`` (silently). An explicit
    ``"cuda"`` on a machine without a GPU raises ``ValueError``; so does any other value.
    """
    value = (device or "").strip().lower()
    if value not in DEVICE_CHOICES:
        raise RagError(f"unknown device {device!r}: choose one of {', '.join(DEVICE_CHOICES)}")
    if value == "cpu":
        return "cpu"
    has_gpu = _cuda_available()
    if value == "cuda":
        if not has_gpu:
            raise RagError(
                "device 'cuda' was requested but torch sees no CUDA GPU on this machine: "
                "use --device cpu (or auto), or install a CUDA build of torch on a GPU machine"
            )
        return "cuda"
    return "cuda" if has_gpu else "cpu"


def faiss_gpu_available() -> bool:
    """True when the installed faiss is a GPU build that loads and sees at least one GPU."""
    try:
        import faiss
    except (ImportError, OSError) as exc:  # a GPU wheel without its CUDA libraries fails here
        logger.debug("faiss failed to import: %s", exc)
        return False
    try:
        return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    except Exception as exc:  # noqa: BLE001 - any failure means: not usable
        logger.debug("faiss GPU probe failed: %s", exc)
        return False


def gpu_backend() -> str:
    """Which GPU search path this machine has.

    ``"faiss-gpu"`` (faiss's GPU build loads and sees a GPU), ``"torch"`` (a CUDA GPU through
    torch only: exact search by fp16 matmul + top-k) or ``"none"``.
    """
    if not _cuda_available():
        return "none"
    if faiss_gpu_available():
        return "faiss-gpu"
    return "torch"
