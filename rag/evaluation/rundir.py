"""A benchmark run's directory: what was run, the answers, the scores, all plain JSON.

A run is a directory ``results/<run>/``:

- ``config.json``: what was run (data, subset, limit, seed, index, systems, the whole pipeline
  configuration, models, corpus, package versions, git commit and a hash of uncommitted changes),
- ``outputs.jsonl``: one line per answered (system, question), appended and flushed as soon as it
  is made; ``--resume`` skips what is there (a torn last line is dropped and redone),
- ``scores-<judge>.jsonl``: per-question scores for one judge (``rag.evaluation.scoring``),
- ``summary.json`` / ``summary.md`` / ``chart.png``: the report (``rag.evaluation.report``).

Systems are ``rag/<generator>`` (retrieval, or the item's own docs with ``docs_from_file``) and
``closed-book/<generator>`` (no passages, a closed-book prompt).
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from rag import models
from rag.errors import MissingFileError, RagError
from rag.evaluation.data import AsqaItem, alce_record, default_data_path, read_asqa_file, write_alce_output
from rag.files import read_json, read_records, slug
from rag.indexing.store import MANIFEST, resolve_index_path
from rag.judges import same_judge
from rag.pipeline import PipelineConfig
from rag.types import Answer, Passage

logger = logging.getLogger(__name__)

OUTPUTS = "outputs.jsonl"
CONFIG = "config.json"
NO_JUDGE = "none"
DEFAULT_GENERATORS = ("qwen2.5-0.5b",)
DEFAULT_BASELINE = "qwen2.5-1.5b"  # the largest packaged model
# Fields of the run (besides the pipeline) that must not change when a run is resumed.
_FIXED_ON_RESUME = ("benchmark", "data", "docs_from_file", "subset", "seed", "index")
# Runs made before config.json held the whole pipeline recorded these pipeline fields flat in
# "run"; those made before the citing levers existed used the generator's own citations.
_FLAT_PIPELINE = (
    "k",
    "prompt",
    "constrain_citations",
    "cite",
    "samples",
    "hide_unsupported",
    "quote_fallback",
    "attribution_judge",
)
_LEGACY_LEVERS = {"cite": "model", "samples": 1, "hide_unsupported": False, "quote_fallback": False}
_VERSIONED = (
    "rag",
    "llama_cpp_python",
    "torch",
    "transformers",
    "sentence-transformers",
    "faiss-cpu",
    "bm25s",
    "nltk",
    "rouge-score",
    "numpy",
)


@dataclass(frozen=True)
class SystemSpec:
    """One system of a run: ``kind`` is ``"rag"`` or ``"closed-book"``."""

    kind: str
    generator: str

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.generator}"


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's answers (saved as ``config.json``).

    ``generators`` answer with retrieval; with ``closed_book`` each also answers closed-book;
    ``baseline`` (if not None) answers closed-book too. ``judge`` is the default scorer.
    ``pipeline`` is the whole answering configuration (retrieval, generation, prompt, citing,
    attribution); :meth:`self_graded` says when the attribution judge is the scoring judge (the
    system would grade itself).
    """

    benchmark: str = "asqa"
    data: str | None = None
    docs_from_file: bool = False
    limit: int | None = None
    subset: str | None = None
    seed: int | None = None
    index: str | None = "asqa"
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    generators: tuple[str, ...] = DEFAULT_GENERATORS
    closed_book: bool = False
    baseline: str | None = DEFAULT_BASELINE
    judge: str = "llm"

    def __post_init__(self) -> None:
        if self.benchmark != "asqa":
            raise RagError(f"unknown benchmark {self.benchmark!r}; the only benchmark is 'asqa'")
        if not self.generators and not self.baseline:
            raise RagError("nothing to run: give --generators and/or --baseline")

    @property
    def k(self) -> int:
        return self.pipeline.k

    def systems(self) -> tuple[SystemSpec, ...]:
        """Systems in run order, grouped by generator so each model is loaded once."""
        out: list[SystemSpec] = []
        for g in self.generators:
            out.append(SystemSpec("rag", g))
            if self.closed_book:
                out.append(SystemSpec("closed-book", g))
        if self.baseline and SystemSpec("closed-book", self.baseline) not in out:
            out.append(SystemSpec("closed-book", self.baseline))
        return tuple(out)

    def data_path(self) -> str:
        return str(self.data or default_data_path())

    def self_graded(self, judge: str | None = None) -> bool:
        """True when citations or samples were chosen by the judge that scores them."""
        return self.pipeline.needs_attribution_judge and same_judge(
            self.pipeline.attribution_judge, judge or self.judge
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``run`` part of ``config.json`` (plain JSON; :func:`config_from_dict` reads it)."""
        return {
            "benchmark": self.benchmark,
            "data": self.data_path(),
            "docs_from_file": self.docs_from_file,
            "limit": self.limit,
            "subset": self.subset,
            "seed": self.seed,
            "index": self.index,
            "generators": list(self.generators),
            "closed_book": self.closed_book,
            "baseline": self.baseline,
            "judge": self.judge,
            "pipeline": self.pipeline.to_dict(),
        }


def _pipeline_from_run(d: Mapping[str, Any]) -> PipelineConfig:
    if "pipeline" in d:
        return PipelineConfig.from_dict(d["pipeline"])
    flat: dict[str, Any] = dict(_LEGACY_LEVERS) | {k: d[k] for k in _FLAT_PIPELINE if k in d}
    return PipelineConfig.from_dict(flat)  # retired levers are refused unless at their only value


def config_from_dict(d: Mapping[str, Any]) -> RunConfig:
    """Read back the ``run`` part of a ``config.json``, in this version's layout or the older one
    that recorded eight pipeline fields flat."""
    run_fields = ("benchmark", "data", "docs_from_file", "limit", "subset", "seed", "index", "closed_book")
    known: dict[str, Any] = {k: d[k] for k in (*run_fields, "baseline", "judge") if k in d}
    if "generators" in d:
        known["generators"] = tuple(d["generators"])
    return RunConfig(**known, pipeline=_pipeline_from_run(d))


# ---------------------------------------------------------------- outputs.jsonl


def read_outputs(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The records of an ``outputs.jsonl`` (or a scores file); a torn last line is ignored, and
    with ``repair`` cut from the file."""
    return read_records(path, repair=repair)


def latest(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The last record of each (system, question id): a redone answer replaces the earlier one."""
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for r in records:
        out[(r["system"], r["id"])] = r
    return out


def answer_record(item: AsqaItem, system: SystemSpec, answer: Answer) -> dict[str, Any]:
    """The ``outputs.jsonl`` line of one answer."""
    return {
        "id": item.id,
        "system": system.name,
        "kind": system.kind,
        "generator": answer.generator,
        "question": item.question,
        # "the passages do not answer" is no claim: scored as an empty answer (0 for EM, left out
        # of the citation metrics, as ALCE treats empty answers); "answered" tells them apart
        "output": answer.text if answer.answered else "",
        "passages": [
            {"id": sp.passage.id, "title": sp.passage.title, "text": sp.passage.text} for sp in answer.passages
        ],
        "timings": {k: round(float(v), 4) for k, v in answer.timings.items()},
        "hidden": [st.text for st in answer.hidden],
        "chosen_sample": answer.chosen_sample,
        "quoted_fallback": answer.quoted_fallback,
        "answered": answer.answered,
    }


def scores_path(run_dir: str | Path, judge_name: str, alce_exact: bool = True) -> Path:
    """Where a run's per-question scores for one judge live."""
    return Path(run_dir) / f"scores-{slug(judge_name)}{'' if alce_exact else '-robust'}.jsonl"


# ---------------------------------------------------------------- environment facts


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape the numbers (None where absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(cwd: str | Path | None, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True).stdout


def git_state(cwd: str | Path | None = None) -> dict[str, str | None]:
    """The checkout's HEAD commit (``+dirty`` when tracked files changed) and, when they did, the
    sha256 of ``git diff HEAD``, so a run made from uncommitted code names exactly which code.
    Nones outside a git checkout."""
    try:
        head = _git(cwd, "rev-parse", "HEAD").strip()
        diff = _git(cwd, "diff", "HEAD", "--no-color", "--no-ext-diff")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "diff_sha256": None}
    if not head:
        return {"commit": None, "diff_sha256": None}
    if not diff:
        return {"commit": head, "diff_sha256": None}
    return {"commit": head + "+dirty", "diff_sha256": hashlib.sha256(diff.encode("utf-8")).hexdigest()}


def model_facts(name: str) -> dict[str, Any]:
    """Parameters and GGUF file size of a generator (from ``rag.models``; None where unknown)."""
    facts: dict[str, Any] = {"name": name, "params": None, "file_size": None, "file": None}
    try:
        spec = models.get_spec(name)
        if spec is not None:
            facts.update(params=spec.params, file_size=spec.size, file=spec.file)
            if spec.size is None and spec.file and models.is_installed(spec):
                path = Path(models.resolve_generator(name))
                if path.is_file():
                    facts["file_size"] = path.stat().st_size
        elif Path(name).is_file():
            facts.update(file=Path(name).name, file_size=Path(name).stat().st_size)
    except (OSError, ValueError) as e:  # facts for the report must never stop a run
        logger.debug("no model facts for %s: %s", name, e)
    return facts


def corpus_facts(config: RunConfig) -> dict[str, Any]:
    """What the passages came from: the item's own docs, or an index (name and manifest facts)."""
    if config.docs_from_file:
        return {"kind": "docs-from-file", "data": config.data_path()}
    facts: dict[str, Any] = {"kind": "index", "index": config.index}
    try:
        path = Path(resolve_index_path(str(config.index)))
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        facts["path"] = str(path)
        for key in ("passage_count", "n_passages", "num_passages", "sources", "source", "embedder"):
            if key in manifest:
                facts[key] = manifest[key]
    except (OSError, ValueError) as e:
        logger.debug("no index facts for %s: %s", config.index, e)
    return facts


# ---------------------------------------------------------------- config.json


def check_resume(run_dir: Path, config: RunConfig) -> None:
    """Raise :class:`RagError` unless ``config`` answers as the run in ``run_dir`` was answered:
    the same data, questions and index, and the same pipeline setting by setting."""
    path = run_dir / CONFIG
    if not path.exists():
        return
    old_run = read_json(path, "run config").get("run", {})
    new_run = config.to_dict()
    for key in _FIXED_ON_RESUME:
        if old_run.get(key) != new_run[key]:
            raise RagError(
                f"cannot resume {run_dir}: it was run with {key}={old_run.get(key)!r}, now {new_run[key]!r}; "
                "use the same setting or start another --run"
            )
    old = _flatten(_pipeline_from_run(old_run).to_dict())
    new = _flatten(new_run["pipeline"])
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            raise RagError(
                f"cannot resume {run_dir}: it was run with {key}={old.get(key)!r}, now {new.get(key)!r}; "
                "use the same setting or start another --run"
            )


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def write_config(run_dir: Path, config: RunConfig, items: Sequence[AsqaItem], extra: Mapping[str, Any]) -> None:
    """Write ``config.json``: the run config, systems, models, corpus, versions, commit, ids."""
    git = git_state(Path(__file__).resolve().parents[2])
    doc = {
        "run": config.to_dict(),
        "systems": [s.name for s in config.systems()],
        "models": {g: model_facts(g) for g in dict.fromkeys(s.generator for s in config.systems())},
        "corpus": corpus_facts(config),
        "n_questions": len(items),
        "question_ids": [it.id for it in items],
        "versions": package_versions(),
        "git_commit": git["commit"],
        "git_diff_sha256": git["diff_sha256"],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    } | dict(extra)
    tmp = run_dir / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(run_dir / CONFIG)


def load_run(run_dir: str | Path) -> tuple[dict[str, Any], RunConfig, list[dict[str, Any]]]:
    """A run's ``config.json`` (as a dict and as a :class:`RunConfig`) and its answer records."""
    run_dir = Path(run_dir)
    path = run_dir / CONFIG
    if not path.is_file():
        raise MissingFileError(f"{run_dir} is not a run directory (no {CONFIG}); run `rag eval` first")
    doc = read_json(path, "run config")
    return doc, config_from_dict(doc.get("run", {})), read_outputs(run_dir / OUTPUTS)


def write_alce_outputs(run_dir: str | Path) -> list[Path]:
    """Write ``alce-<system>.json`` per system in ALCE's output format (for ALCE's ``eval.py --f``)."""
    run_dir = Path(run_dir)
    doc, config, records = load_run(run_dir)
    items = {it.id: it for it in read_asqa_file(config.data_path())}
    by_system: dict[str, list[dict[str, Any]]] = {}
    for (system, qid), rec in latest(records).items():
        if qid not in items:
            raise RagError(f"question {qid} of {run_dir} is not in {config.data_path()}")
        docs = [Passage(id=str(p.get("id")), text=p.get("text", ""), title=p.get("title", "")) for p in rec["passages"]]
        by_system.setdefault(system, []).append(alce_record(items[qid], rec["output"], docs))
    paths = []
    for system, data in by_system.items():
        args = {"system": system, "k": config.k, "prompt": config.pipeline.prompt, "corpus": doc.get("corpus")}
        paths.append(write_alce_output(run_dir / f"alce-{slug(system.replace('/', '_'))}.json", data, args))
    return paths
