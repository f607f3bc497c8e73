"""``rag index DIR --update``: add, change and remove files; the index equals a fresh build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.errors import RagError
from rag.indexing.store import IndexConfig, build_index, load_index
from rag.indexing.update import update_index

DOCS = {
    "tea.md": "# Tea\n\nTea was first drunk in China.\n\n## Caffeine\n\nA cup holds about 45 milligrams.\n",
    "coffee.md": "# Coffee\n\nCoffee was first drunk in Yemen in the fifteenth century.\n",
    "bees.txt": "Honeybees live in colonies with one queen.\n",
    "notes/cocoa.txt": "Cocoa beans grow in pods on the cacao tree.\n",
}


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def same_index(a: Path, b: Path) -> None:
    x, y = load_index(a), load_index(b)
    assert x.passages == y.passages
    np.testing.assert_allclose(x.dense.vectors(), y.dense.vectors(), atol=2e-3)
    assert sorted((s["path"], s["sha256"]) for s in x.manifest["sources"]) == sorted(
        (s["path"], s["sha256"]) for s in y.manifest["sources"]
    )
    assert x.manifest["document_count"] == y.manifest["document_count"]


def test_update_round_trip_equals_a_fresh_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, DOCS)
    index = tmp_path / "index"
    build_index([docs], index, IndexConfig(), show_progress=False)
    (docs / "bees.txt").unlink()  # removed
    write(docs, {"coffee.md": "# Coffee\n\nCoffee was first drunk in the Sufi monasteries of Yemen.\n"})  # changed
    write(docs, {"notes/milk.md": "# Milk\n\nMilk tea is popular in Hong Kong.\n"})  # added
    updated, changes = update_index(index, [docs], show_progress=False)
    assert [Path(p).name for p in changes.added] == ["milk.md"]
    assert [Path(p).name for p in changes.changed] == ["coffee.md"]
    assert [Path(p).name for p in changes.removed] == ["bees.txt"]
    assert changes.unchanged == 2
    assert changes.summary() == "1 added, 1 changed, 1 removed, 2 unchanged"
    fresh = tmp_path / "fresh"
    build_index([docs], fresh, IndexConfig(), show_progress=False)
    same_index(index, fresh)
    assert [p.id for p in updated.passages] == [p.id for p in load_index(fresh).passages]
    # the sections survive: the tea document's second passage knows its heading
    tea = [p for p in updated.passages if p.doc_id == "tea.md"]
    assert [p.location.section if p.location else None for p in tea] == [("Tea",), ("Tea", "Caffeine")]


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, DOCS)
    index = tmp_path / "index"
    build_index([docs], index, IndexConfig(), show_progress=False)
    before = (index / "manifest.json").read_bytes()
    _, changes = update_index(index, [docs], show_progress=False)
    assert changes.summary() == "0 added, 0 changed, 0 removed, 4 unchanged"
    assert (index / "manifest.json").read_bytes() == before


def test_update_needs_an_index(tmp_path: Path) -> None:
    with pytest.raises(RagError, match="no rag index"):
        update_index(tmp_path / "none", [tmp_path], show_progress=False)
