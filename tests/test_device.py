"""Device selection on a machine with and without a GPU."""

from __future__ import annotations

import pytest
import torch

from rag import device as dev

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")


@no_gpu
def test_auto_is_cpu_without_gpu() -> None:
    assert dev.resolve_device("auto") == "cpu"
    assert dev.resolve_device() == "cpu"
    assert dev.gpu_backend() == "none"


@no_gpu
def test_explicit_cuda_without_gpu_is_clear_error() -> None:
    with pytest.raises(ValueError, match="no CUDA GPU.*--device cpu"):
        dev.resolve_device("cuda")


def test_cpu_and_case() -> None:
    assert dev.resolve_device("cpu") == "cpu"
    assert dev.resolve_device(" CPU ") == "cpu"


def test_unknown_device_lists_choices() -> None:
    with pytest.raises(ValueError, match="choose one of auto, cpu, cuda"):
        dev.resolve_device("tpu")


def test_with_a_gpu(monkeypatch) -> None:
    monkeypatch.setattr(dev, "_cuda_available", lambda: True)
    assert dev.resolve_device("auto") == "cuda"
    assert dev.resolve_device("cuda") == "cuda"
    monkeypatch.setattr(dev, "faiss_gpu_available", lambda: False)
    assert dev.gpu_backend() == "torch"
    monkeypatch.setattr(dev, "faiss_gpu_available", lambda: True)
    assert dev.gpu_backend() == "faiss-gpu"
