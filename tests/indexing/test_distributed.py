"""rag.indexing.distributed: ``rag index --engine ray`` on a local Ray cluster (2 CPUs, no dashboard)
must give what one process gives: the same passages in the same rows, the same skips, vectors
equal up to float rounding, the same top-10 passages for queries (dense, BM25, hybrid); and the
shards merged by row (on hand-made input)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import DOCS, needs_shared_data, shared_file, write_docs

from rag.cluster import RayEngine
from rag.errors import RagError
from rag.indexing.distributed import merge_shards
from rag.indexing.store import build_index, load_index
from rag.retrieval.retriever import RetrievalConfig, Retriever

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rag[distributed]')")

CORPUS = shared_file("asqa", "corpus.jsonl")


# Float tolerance between a vector embedded in a Ray batch and the same text embedded locally
# (other batch companions change padding and bf16 rounding): documented in docs/scale.md.
VECTOR_ATOL = 2e-2


QUERIES = [
    "How much caffeine is in a cup of coffee?",
    "Where was tea first drunk?",
    "Who lives in a honeybee colony?",
    "fifteenth century monasteries",
]


def _shard(folder: Path, name: str, rows: list[int], vectors: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"row": rows, "vector": [v.astype(np.float32).tobytes() for v in vectors]})
    pq.write_table(table, folder / name)


def test_shards_merge_by_row_and_gaps_or_repeats_fail(tmp_path: Path) -> None:
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    _shard(tmp_path, "b.parquet", [3, 0], vectors[[3, 0]])
    _shard(tmp_path, "a.parquet", [1, 2], vectors[[1, 2]])
    merged, shards = merge_shards(tmp_path, 4, 3)
    assert shards == 2
    np.testing.assert_array_equal(merged, vectors)
    with pytest.raises(RagError, match="1 passages have no vector"):
        merge_shards(tmp_path, 5, 3)
    _shard(tmp_path, "c.parquet", [2], vectors[[2]])
    with pytest.raises(RagError, match="repeats row 2"):
        merge_shards(tmp_path, 4, 3)


# ---------------------------------------------------------------- a local Ray cluster


@pytest.fixture(scope="module")
def cluster() -> object:
    from rag.cluster import connect, shutdown

    engine = RayEngine(workers=2)
    connect(engine)
    yield engine
    shutdown()


def _docs(folder: Path) -> Path:
    write_docs(folder, DOCS)
    (folder / "empty.txt").write_text("   \n", encoding="utf-8")  # skipped: no text
    (folder / "copy.md").write_text(DOCS["tea.md"], encoding="utf-8")  # skipped: same bytes
    long = " ".join(f"Sentence {i} says that bees make honey from nectar in summer." for i in range(80))
    (folder / "long.txt").write_text(long, encoding="utf-8")  # several passages
    return folder


def _same_search(a_path: Path, b_path: Path, queries: list[str], k: int) -> None:
    a, b = load_index(a_path, device="cpu"), load_index(b_path, device="cpu")
    assert [p.to_dict() for p in a.passages] == [p.to_dict() for p in b.passages]
    va = a.dense._index.reconstruct_n(0, a.dense.ntotal)
    vb = b.dense._index.reconstruct_n(0, b.dense.ntotal)
    np.testing.assert_allclose(va, vb, atol=VECTOR_ATOL)
    for mode in ("dense", "bm25", "hybrid"):
        ra, rb = Retriever(a, RetrievalConfig(mode=mode)), Retriever(b, RetrievalConfig(mode=mode))
        for q in queries:
            top_a = [h.passage.id for h in ra.retrieve(q, k=k)]
            top_b = [h.passage.id for h in rb.retrieve(q, k=k)]
            assert top_a == top_b, (mode, q)


def test_ray_index_equals_a_local_build(cluster: RayEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "tmp"  # the shards' folder: this test's own, so other runs cannot interfere
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    docs = _docs(tmp_path / "docs")
    local = build_index([docs], tmp_path / "local", device="cpu", show_progress=False)
    dist = build_index([docs], tmp_path / "ray", device="cpu", show_progress=False, engine=cluster)
    assert len(local) == len(dist) > len(DOCS)  # the long document was split
    assert [str(s) for s in dist.skipped] == [str(s) for s in local.skipped]
    assert len(dist.skipped) == 2
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["passage_count"] == len(local)
    assert manifest["skipped"] == [s.to_dict() for s in local.skipped]
    assert not [p for p in scratch.iterdir() if p.name.startswith(".rag-shards.")]  # removed
    _same_search(tmp_path / "local", tmp_path / "ray", QUERIES, k=10)


@pytest.mark.slow
@needs_shared_data
def test_ray_index_of_2000_asqa_passages_answers_the_retrieval_queries_alike(
    cluster: RayEngine, tmp_path: Path
) -> None:
    from rag.evaluation.data import load_asqa

    lines = CORPUS.read_text(encoding="utf-8").splitlines()[:2000]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index([corpus], tmp_path / "local", device="cpu", show_progress=False)
    build_index([corpus], tmp_path / "ray", device="cpu", show_progress=False, engine=cluster)
    questions = [it.question for it in load_asqa(subset="pooled300")[:50]]
    _same_search(tmp_path / "local", tmp_path / "ray", questions, k=10)
