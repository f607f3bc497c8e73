"""The numpy BERT encoder against sentence-transformers (the reference), and the torch-free load path."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.errors import RagError
from rag.indexing.encoder import NumpyBertEncoder, _gelu, read_shape
from rag.models import resolve_embedder

TEXTS = [
    "Who first found radioactivity?",
    "Henri Becquerel discovered radioactivity in 1896 while working on phosphorescent materials.",
    "x",
    "   spaced    out   text   ",
    "Ünïcödé naïve café — 東京 and Ελληνικά",
    "a " * 600,  # over 256 word pieces: truncated as sentence-transformers truncates
    "The Treaty of Westphalia (1648) ended the Thirty Years' War; it is often cited as the origin "
    "of the modern system of sovereign states.",
]


@pytest.fixture(scope="module")
def folder() -> Path:
    return Path(resolve_embedder("all-MiniLM-L6-v2"))


@pytest.fixture(scope="module")
def reference(folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


def test_gelu_matches_erf_gelu() -> None:
    x = np.linspace(-9.0, 9.0, 36_001, dtype=np.float32)
    want = np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.astype(np.float64)])
    got = _gelu(x.copy())
    assert got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-6
    assert got[x == 0.0][0] == 0.0


def test_token_ids_match_the_reference_tokenizer(folder: Path, reference) -> None:
    enc = NumpyBertEncoder(folder)
    want = [reference.tokenizer(t, truncation=True, max_length=256)["input_ids"] for t in TEXTS]
    assert enc.token_ids(TEXTS) == want
    assert len(enc.token_ids([TEXTS[5]])[0]) == 256


def test_vectors_match_sentence_transformers(folder: Path, reference) -> None:
    enc = NumpyBertEncoder(folder)
    got = enc.encode(TEXTS)
    want = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-5
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # batches (longest first, a small token budget) must not change which row is which
    one_by_one = np.vstack([enc.encode([t]) for t in TEXTS])
    assert np.abs(enc.encode(TEXTS, batch_tokens=64) - one_by_one).max() < 1e-5
    assert enc.encode([]).shape == (0, 384)


def _copy_config(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "model"
    out.mkdir()
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json"):
        shutil.copy(folder / name, out / name)
    (out / "model.safetensors").write_bytes(b"")  # read_shape looks at no weights
    (out / "1_Pooling").mkdir()
    shutil.copy(folder / "1_Pooling" / "config.json", out / "1_Pooling" / "config.json")
    return out


def test_read_shape_accepts_only_what_it_can_run(folder: Path, tmp_path: Path) -> None:
    shape = read_shape(folder)
    assert shape is not None
    assert (shape.hidden, shape.heads, shape.layers, shape.max_seq_length, shape.normalize) == (384, 12, 6, 256, True)
    model = _copy_config(folder, tmp_path)
    assert read_shape(model) == shape
    pooling = json.loads((model / "1_Pooling" / "config.json").read_text())
    pooling["pooling_mode_cls_token"] = True
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert read_shape(model) is None  # CLS pooling: not this encoder's
    (tmp_path / "b").mkdir()
    model2 = _copy_config(folder, tmp_path / "b")
    config = json.loads((model2 / "config.json").read_text())
    config["model_type"] = "roberta"
    (model2 / "config.json").write_text(json.dumps(config))
    assert read_shape(model2) is None
    assert read_shape(tmp_path / "nowhere") is None


def test_embedder_backends(folder: Path, tmp_path: Path) -> None:
    from rag.indexing.dense import Embedder

    auto = Embedder(device="cpu")
    assert auto.backend == "numpy" and auto.dimension == 384 and auto.max_seq_length == 256
    # the Hugging Face tokenizer (chunking counts tokens with it) is there on demand
    assert auto.tokenizer("Becquerel", add_special_tokens=False)["input_ids"]
    torch_one = Embedder(device="cpu", backend="torch", precision="fp32")
    assert torch_one.backend == "torch"
    assert np.abs(auto.encode(TEXTS) - torch_one.encode(TEXTS)).max() < 1e-5
    assert Embedder(device="cpu", precision="bf16").backend == "torch"
    with pytest.raises(RagError, match="backend"):
        Embedder(device="cpu", backend="onnx")
    with pytest.raises(RagError, match="numpy embedder backend"):
        Embedder(device="cpu", backend="numpy", precision="bf16")


def test_a_loaded_index_embeds_questions_without_torch(tmp_path: Path) -> None:
    """What a cold `rag ask` does before generating: load the index, embed the question, search.
    On a machine without a GPU driver neither torch nor sentence-transformers is imported, and
    the hits are those of the torch embedder."""
    from rag.indexing.store import build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "physics.md").write_text(
        "# Radioactivity\n\nHenri Becquerel discovered radioactivity in 1896.\n\n"
        "Marie Curie coined the word radioactivity and discovered polonium and radium.\n",
        encoding="utf-8",
    )
    (docs / "food.md").write_text("# Bread\n\nBread is baked from flour, water and yeast.\n", encoding="utf-8")
    build_index([docs], tmp_path / "idx", show_progress=False, device="cpu")
    script = (
        "import sys, json\n"
        "import rag.device as d\n"
        "d._GPU_DEVICE_FILES = ()\n"
        "from rag.indexing.store import load_index\n"
        f"idx = load_index({str(tmp_path / 'idx')!r})\n"
        "hits = idx.dense.search(idx.embedder.encode_queries(['Who discovered radioactivity?']), 3)[0]\n"
        "print(json.dumps({'rows': [h.row for h in hits], 'backend': idx.embedder.backend,\n"
        "  'torch': 'torch' in sys.modules, 'st': 'sentence_transformers' in sys.modules}))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["backend"] == "numpy" and not got["torch"] and not got["st"]
    from rag.indexing.dense import Embedder
    from rag.indexing.store import load_index

    idx = load_index(tmp_path / "idx", device="cpu")
    question = Embedder(device="cpu", backend="torch").encode_queries(["Who discovered radioactivity?"])
    want = idx.dense.search(question, 3)
    assert got["rows"] == [h.row for h in want[0]]
