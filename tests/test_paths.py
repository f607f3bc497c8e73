"""rag.paths: the benchmark data only where ``$RAG_SHARED_DATA`` names it (no default beside the
checkout), the model cache and the index home from their variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import MissingFileError
from rag.evaluation.data import default_data_path
from rag.paths import CACHE_ENV, INDEXES_ENV, SHARED_DATA_ENV, benchmark_data_dir, cache_dir, indexes_dir


def test_the_benchmark_data_is_the_folder_the_variable_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path))
    assert benchmark_data_dir() == tmp_path
    monkeypatch.delenv("RAG_ASQA", raising=False)
    assert default_data_path() == tmp_path / "asqa" / "asqa_dev.json"


@pytest.mark.parametrize("value", [None, ""])
def test_without_the_variable_there_is_no_benchmark_data(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    """Unset (or empty), the error says what to set, whatever lies beside the checkout."""
    if value is None:
        monkeypatch.delenv(SHARED_DATA_ENV, raising=False)
    else:
        monkeypatch.setenv(SHARED_DATA_ENV, value)
    with pytest.raises(MissingFileError, match=f"set {SHARED_DATA_ENV} to the folder that holds asqa/"):
        benchmark_data_dir()
    monkeypatch.delenv("RAG_ASQA", raising=False)
    with pytest.raises(MissingFileError, match=SHARED_DATA_ENV):
        default_data_path()


def test_cache_and_index_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(INDEXES_ENV, str(tmp_path / "indexes"))
    assert (cache_dir(), indexes_dir()) == (tmp_path / "cache", tmp_path / "indexes")
    monkeypatch.delenv(INDEXES_ENV)
    monkeypatch.chdir(tmp_path)
    assert indexes_dir() == tmp_path / "indexes"
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir().name == "rag"  # the user's cache folder
    assert not (tmp_path / "cache").exists()  # nothing is created by asking
