"""rag.cluster: the engine a command runs on (local or a Ray cluster), and its errors."""

from __future__ import annotations

import pytest

from rag.cluster import RayEngine, engine_for
from rag.errors import RagError


def test_engine_choice_and_its_errors() -> None:
    assert engine_for("local") is None
    assert engine_for("ray", workers=3) == RayEngine(workers=3)
    assert engine_for("RAY", device="cuda").gpus_per_worker == 1.0  # type: ignore[union-attr]
    with pytest.raises(RagError, match="unknown engine 'spark'"):
        engine_for("spark")
    with pytest.raises(RagError, match="--address needs --engine ray"):
        engine_for("local", address="ray://head:10001")
    with pytest.raises(RagError, match="at least 1"):
        RayEngine(workers=0)
