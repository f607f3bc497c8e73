"""DenseIndex against brute-force numpy, HNSW recall, save/load; the Embedder's precision."""

from __future__ import annotations

import numpy as np
import pytest

from rag.indexing.dense import DenseConfig, DenseIndex


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(x: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = q @ x.T
    rows = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return rows, np.take_along_axis(s, rows, axis=1)


def hit_arrays(hits: list) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([[h.row for h in hs] for hs in hits]), np.array([[h.score for h in hs] for hs in hits]))


def test_flat_equals_numpy() -> None:
    rng = np.random.default_rng(0)
    x, q = unit(rng, 2000, 48), unit(rng, 25, 48)
    index = DenseIndex.build(x, DenseConfig(kind="flat"))
    rows, scores = hit_arrays(index.search(q, 10))
    ref_rows, ref_scores = brute_force(x, q, 10)
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5, atol=1e-5)
    assert [h.rank for h in index.search(q[:1], 10)[0]] == list(range(1, 11))


def test_k_larger_than_index_and_1d_query() -> None:
    rng = np.random.default_rng(1)
    x = unit(rng, 5, 8)
    index = DenseIndex.build(x)
    hits = index.search(x[2], 50)
    assert len(hits) == 1 and len(hits[0]) == 5
    assert hits[0][0].row == 2 and hits[0][0].score == pytest.approx(1.0, abs=1e-5)


def test_auto_kind_follows_threshold() -> None:
    rng = np.random.default_rng(2)
    assert DenseIndex.build(unit(rng, 99, 8), DenseConfig(auto_threshold=100)).kind == "flat"
    assert DenseIndex.build(unit(rng, 100, 8), DenseConfig(auto_threshold=100)).kind == "hnsw"
    with pytest.raises(ValueError, match="unknown dense index kind"):
        DenseConfig(kind="ivf")


def test_hnsw_recall_at_10() -> None:
    rng = np.random.default_rng(3)
    x, q = unit(rng, 10_000, 32), unit(rng, 200, 32)
    index = DenseIndex.build(x, DenseConfig(kind="hnsw"))
    assert index.kind == "hnsw"
    rows, _ = hit_arrays(index.search(q, 10))
    ref_rows, _ = brute_force(x, q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, ref_rows, strict=True)])
    assert recall >= 0.95, recall


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
@pytest.mark.parametrize("mmap", [False, True])
def test_save_load_round_trip(tmp_path, kind: str, mmap: bool) -> None:
    rng = np.random.default_rng(4)
    x, q = unit(rng, 1500, 16), unit(rng, 20, 16)
    index = DenseIndex.build(x, DenseConfig(kind=kind, ef_search=64))
    index.save(tmp_path)
    loaded = DenseIndex.load(tmp_path, mmap=mmap, device="cpu")
    assert (loaded.kind, loaded.ntotal, loaded.dimension, loaded.device) == (kind, 1500, 16, "cpu")
    assert loaded.config == index.config
    assert loaded.search(q, 7) == index.search(q, 7)


def test_add_equals_build_of_all() -> None:
    rng = np.random.default_rng(5)
    x, q = unit(rng, 600, 16), unit(rng, 10, 16)
    grown = DenseIndex.build(x[:400], DenseConfig(kind="flat"))
    grown.add(x[400:])
    assert grown.ntotal == 600
    assert grown.search(q, 10) == DenseIndex.build(x, DenseConfig(kind="flat")).search(q, 10)


def test_add_refused_on_mmap_and_wrong_dimension(tmp_path) -> None:
    rng = np.random.default_rng(6)
    index = DenseIndex.build(unit(rng, 10, 8))
    with pytest.raises(ValueError, match="dimension 4"):
        index.add(unit(rng, 2, 4))
    index.save(tmp_path)
    with pytest.raises(ValueError, match="memory-mapped"):
        DenseIndex.load(tmp_path, mmap=True, device="cpu").add(unit(rng, 2, 8))
    with pytest.raises(FileNotFoundError, match="dense.json"):
        DenseIndex.load(tmp_path / "nowhere")


# --- the real packaged embedder ---
TEXTS = [
    "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "A short one.",
    "The Treaty of Westphalia in 1648 ended the Thirty Years' War in the Holy Roman Empire "
    "and the Eighty Years' War between Spain and the Dutch Republic, and is often cited as "
    "the origin of the modern system of sovereign states.",
    "Python is a programming language.",
]


@pytest.fixture(scope="module")
def embedders():
    from rag.indexing.dense import Embedder

    return Embedder(device="cpu", precision="fp32", backend="torch"), Embedder(device="cpu", precision="bf16")


def test_embedder_shapes_norms_and_order(embedders) -> None:
    fp32, _ = embedders
    assert (fp32.dimension, fp32.max_seq_length) == (384, 256)
    batch = fp32.encode(TEXTS)
    assert batch.dtype == np.float32 and batch.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    # sorting by length inside encode must not change which row belongs to which text
    single = np.vstack([fp32.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(batch, single, atol=1e-4)
    assert fp32.encode([]).shape == (0, 384)
    q = fp32.encode_queries(["When was the Eiffel Tower built?"])
    assert int(np.argmax(batch @ q[0])) == 0


def test_batches_of_any_size_give_the_same_rows(embedders) -> None:
    """Embedding runs one batch at a time (memory given back between batches): a batch of one,
    of two and of all must give the same row for each text, in the input order."""
    fp32, _ = embedders
    texts = TEXTS * 3
    whole = fp32.encode(texts, batch_size=64)
    for size in (1, 2):
        np.testing.assert_allclose(fp32.encode(texts, batch_size=size), whole, atol=1e-4)
    np.testing.assert_allclose(whole[: len(TEXTS)], whole[len(TEXTS) : 2 * len(TEXTS)], atol=1e-6)


def test_release_freed_memory_is_harmless() -> None:
    from rag.indexing.dense import release_freed_memory

    release_freed_memory()
    release_freed_memory()


def test_bf16_close_to_fp32(embedders) -> None:
    fp32, bf16 = embedders
    a, b = fp32.encode(TEXTS), bf16.encode(TEXTS)
    assert b.dtype == np.float32
    cos = np.sum(a * b, axis=1)
    assert cos.min() > 0.99, cos
