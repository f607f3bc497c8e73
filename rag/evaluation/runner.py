"""Benchmark runs: answer every question with each system, append as you go, resume, score later.

A run is a directory ``eval/results/<run>/``:

- ``config.json``: what was run (data, subset, limit, seed, index, k, prompt, systems, models,
  package versions, git commit),
- ``outputs.jsonl``: one line per answered (system, question), appended and flushed as soon as it
  is made; ``--resume`` skips what is there (a torn last line is dropped and redone),
- ``scores-<judge>.jsonl``: per-question scores for one judge (scoring is separate from
  generation, so a finished run is re-scored with another judge without regenerating),
- ``summary.json`` / ``summary.md`` / ``chart.png``: written by :mod:`rag.evaluation.report`.

Systems are ``rag/<generator>`` (retrieval, or the item's own docs with ``docs_from_file``) and
``closed-book/<generator>`` (no passages, a closed-book prompt).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from rag.attribution import DEFAULT_ATTRIBUTION_JUDGE
from rag.evaluation.asqa import AsqaItem, default_data_path, load_asqa
from rag.evaluation.report import NO_JUDGE, _slug, score_run, scores_path  # noqa: F401 - re-exported
from rag.types import Answer, Passage

logger = logging.getLogger(__name__)

OUTPUTS = "outputs.jsonl"
CONFIG = "config.json"
KINDS = ("rag", "closed-book")
DEFAULT_GENERATORS = ("qwen2.5-0.5b",)
DEFAULT_BASELINE = "qwen2.5-1.5b"  # the largest packaged model
# Fields that must not change when a run is resumed: they change what every answer means.
_FIXED_ON_RESUME = (
    "benchmark",
    "data",
    "docs_from_file",
    "subset",
    "seed",
    "index",
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


class Answerer(Protocol):
    """What a run needs from a pipeline (``rag.pipeline.Pipeline`` is one)."""

    def ask(self, question: str, *, passages: Sequence[Passage] | None = None) -> Answer: ...

    def closed_book(self, question: str) -> Answer: ...


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
    ``cite``, ``samples``, ``hide_unsupported`` and ``attribution_judge`` are the citing levers of
    ``rag.pipeline.PipelineConfig``; :meth:`self_graded` says when the attribution judge is the
    scoring judge (the system would grade itself).
    """

    benchmark: str = "asqa"
    data: str | None = None
    docs_from_file: bool = False
    limit: int | None = None
    subset: str | None = None
    seed: int | None = None
    index: str | None = "asqa"
    k: int = 5
    prompt: str = "quote"
    constrain_citations: bool = False
    cite: str = "posthoc"
    samples: int = 1
    hide_unsupported: bool = True
    quote_fallback: bool = True
    attribution_judge: str = DEFAULT_ATTRIBUTION_JUDGE
    generators: tuple[str, ...] = DEFAULT_GENERATORS
    closed_book: bool = False
    baseline: str | None = DEFAULT_BASELINE
    judge: str = "llm"

    def __post_init__(self) -> None:
        if self.benchmark != "asqa":
            raise ValueError(f"unknown benchmark {self.benchmark!r}; the only benchmark is 'asqa'")
        if self.k < 1:
            raise ValueError(f"--k must be at least 1, got {self.k}")
        if not self.generators and not self.baseline:
            raise ValueError("nothing to run: give --generators and/or --baseline")

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

    def uses_attribution_judge(self) -> bool:
        return self.cite == "posthoc" or self.samples > 1 or self.hide_unsupported

    def self_graded(self, judge: str | None = None) -> bool:
        """True when citations or samples were chosen by the judge that scores them."""
        from rag.judge import same_judge

        return self.uses_attribution_judge() and same_judge(self.attribution_judge, judge or self.judge)


def config_from_dict(d: Mapping[str, Any]) -> RunConfig:
    """Read back the ``run`` part of a ``config.json``."""
    # runs made before the citing levers existed used the generator's own citations
    known = dict(_LEGACY_LEVERS) | {k: d[k] for k in RunConfig.__dataclass_fields__ if k in d}
    if "generators" in known:
        known["generators"] = tuple(known["generators"])
    return RunConfig(**known)


# ---------------------------------------------------------------- outputs.jsonl


def read_outputs(path: str | Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The records of an ``outputs.jsonl``. A torn last line (no final newline: the process was
    killed while writing it) is ignored, and with ``repair`` cut from the file."""
    p = Path(path)
    if not p.exists():
        return []
    data = p.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        logger.warning("%s: dropping a torn last line (%d bytes); it will be redone", p, len(data) - end)
        if repair:
            with p.open("r+b") as f:
                f.truncate(end)
    records = []
    for n, line in enumerate(data[:end].decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{p} line {n} is not JSON ({e}); fix or remove that line, then --resume") from e
    return records


def _append(f: Any, record: Mapping[str, Any]) -> None:
    f.write(json.dumps(record, ensure_ascii=False) + "\n")
    f.flush()
    os.fsync(f.fileno())


def answer_record(item: AsqaItem, system: SystemSpec, answer: Answer) -> dict[str, Any]:
    """The ``outputs.jsonl`` line of one answer."""
    return {
        "id": item.id,
        "system": system.name,
        "kind": system.kind,
        "generator": answer.generator,
        "question": item.question,
        "output": answer.text,
        "passages": [
            {"id": sp.passage.id, "title": sp.passage.title, "text": sp.passage.text} for sp in answer.passages
        ],
        "timings": {k: round(float(v), 4) for k, v in answer.timings.items()},
        "hidden": [st.text for st in answer.hidden],
        "chosen_sample": answer.chosen_sample,
        "quoted_fallback": answer.quoted_fallback,
    }


# ---------------------------------------------------------------- environment facts


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape the numbers (None where absent)."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The checkout's HEAD commit (with ``+dirty`` if there are changes), or None."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "") if head else None


def model_facts(name: str) -> dict[str, Any]:
    """Parameters and GGUF file size of a generator (from ``rag.models``; None where unknown)."""
    facts: dict[str, Any] = {"name": name, "params": None, "file_size": None, "file": None}
    try:
        from rag import models

        spec = models.get_spec(name)
        if spec is not None:
            facts.update(params=spec.params, file_size=spec.size, file=spec.file)
            if spec.size is None and spec.file and models.is_installed(spec):
                path = Path(models.resolve_generator(name))
                if path.is_file():
                    facts["file_size"] = path.stat().st_size
        elif Path(name).is_file():
            facts.update(file=Path(name).name, file_size=Path(name).stat().st_size)
    except Exception as e:  # noqa: BLE001 - facts for the report must never stop a run
        logger.debug("no model facts for %s: %s", name, e)
    return facts


def corpus_facts(config: RunConfig) -> dict[str, Any]:
    """What the passages came from: the item's own docs, or an index (name and manifest facts)."""
    if config.docs_from_file:
        return {"kind": "docs-from-file", "data": config.data_path()}
    facts: dict[str, Any] = {"kind": "index", "index": config.index}
    try:
        from rag.index import resolve_index_path

        path = Path(resolve_index_path(config.index))
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        facts["path"] = str(path)
        for key in ("passage_count", "n_passages", "num_passages", "sources", "source", "embedder"):
            if key in manifest:
                facts[key] = manifest[key]
    except Exception as e:  # noqa: BLE001
        logger.debug("no index facts for %s: %s", config.index, e)
    return facts


# ---------------------------------------------------------------- running


def _default_factory(config: RunConfig, device: str = "auto") -> Callable[[str], Answerer]:
    """Pipelines that share one loaded index (loaded only for generators that retrieve); each
    generator is loaded when first asked for."""
    from rag.pipeline import Pipeline, PipelineConfig

    pconf = PipelineConfig(
        k=config.k,
        prompt=config.prompt,
        constrain_citations=config.constrain_citations,
        cite=config.cite,
        samples=config.samples,
        hide_unsupported=config.hide_unsupported,
        quote_fallback=config.quote_fallback,
        attribution_judge=config.attribution_judge,
    )
    retrieving = {s.generator for s in config.systems() if s.kind == "rag"}
    shared: dict[str, Any] = {}

    def make(generator: str) -> Answerer:
        from rag.generation import load_generator

        index = None
        if generator in retrieving and not config.docs_from_file and config.index is not None:
            if "index" not in shared:
                from rag.index import load_index, resolve_index_path

                shared["index"] = load_index(resolve_index_path(config.index), device=device)
            index = shared["index"]
        if config.uses_attribution_judge() and "attribution_judge" not in shared:
            from rag.judge import load_judge

            shared["attribution_judge"] = load_judge(config.attribution_judge)
        return Pipeline(
            load_generator(generator, device=device), index, pconf, attribution_judge=shared.get("attribution_judge")
        )

    return make


def _check_resume(run_dir: Path, config: RunConfig) -> dict[str, Any] | None:
    path = run_dir / CONFIG
    if not path.exists():
        return None
    old = json.loads(path.read_text(encoding="utf-8")).get("run", {})
    for key in _FIXED_ON_RESUME:
        new_value = (asdict(config) | {"data": config.data_path()})[key]
        if old.get(key) != new_value:
            raise ValueError(
                f"cannot resume {run_dir}: it was run with {key}={old.get(key)!r}, now {new_value!r}; "
                "use the same setting or start another --run"
            )
    return old


def write_config(run_dir: Path, config: RunConfig, items: Sequence[AsqaItem], extra: Mapping[str, Any]) -> None:
    """Write ``config.json``: the run config, systems, models, corpus, versions, commit, ids."""
    doc = {
        "run": asdict(config) | {"data": config.data_path()},
        "systems": [s.name for s in config.systems()],
        "models": {g: model_facts(g) for g in dict.fromkeys(s.generator for s in config.systems())},
        "corpus": corpus_facts(config),
        "n_questions": len(items),
        "question_ids": [it.id for it in items],
        "versions": package_versions(),
        "git_commit": git_commit(Path(__file__).resolve().parents[2]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    } | dict(extra)
    tmp = run_dir / (CONFIG + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(run_dir / CONFIG)


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_benchmark` did: answers written now, answers already there, the run dir."""

    run_dir: Path
    written: int
    skipped: int
    systems: tuple[str, ...] = field(default=())


def _tasks(
    config: RunConfig, items: Sequence[AsqaItem], done: set[tuple[str, str]]
) -> Iterator[tuple[SystemSpec, AsqaItem]]:
    for system in config.systems():
        for item in items:
            if (system.name, item.id) not in done:
                yield system, item


def run_benchmark(
    config: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    pipeline_factory: Callable[[str], Answerer] | None = None,
    items: Sequence[AsqaItem] | None = None,
    progress: bool = True,
    device: str = "auto",
) -> RunResult:
    """Answer every selected question with every system of ``config`` into ``run_dir``.

    ``pipeline_factory(generator_name)`` gives the object that answers for one generator (default:
    ``rag.pipeline.Pipeline``s sharing one index); it is called once per generator, and a model is
    dropped before the next is loaded. ``items`` overrides loading from ``config``.
    Raises ``ValueError`` if the run already has answers and ``resume`` is false.
    """
    run_dir = Path(run_dir)
    if items is None:
        items = load_asqa(config.data_path(), limit=config.limit, subset=config.subset, seed=config.seed)
    if config.docs_from_file and any(it.docs is None for it in items):
        raise ValueError(
            "--docs-from-file needs ALCE-format data with docs per question; "
            "pass --data with a file like asqa_eval_gtr_top100.json"
        )
    if not config.docs_from_file and any(s.kind == "rag" for s in config.systems()) and pipeline_factory is None:
        from rag.index import resolve_index_path

        if not resolve_index_path(str(config.index)).is_dir():
            raise FileNotFoundError(
                f"index {config.index!r} not found at {resolve_index_path(str(config.index))}: build it "
                "with `rag index ../shared/data/asqa/corpus.jsonl --name asqa`, "
                "or pass --index or --docs-from-file"
            )
    out_path = run_dir / OUTPUTS
    if out_path.exists() and out_path.stat().st_size > 0 and not resume:
        raise ValueError(f"{run_dir} already has answers; pass --resume to continue it or choose another --run")
    run_dir.mkdir(parents=True, exist_ok=True)
    if resume:
        _check_resume(run_dir, config)
    done = {(r["system"], r["id"]) for r in read_outputs(out_path, repair=True)}
    write_config(run_dir, config, items, {})
    todo = list(_tasks(config, items, done))
    skipped = len(config.systems()) * len(items) - len(todo)
    if skipped:
        logger.info("resuming %s: %d answers already there, %d to go", run_dir, skipped, len(todo))
    factory = pipeline_factory or _default_factory(config, device)

    from tqdm import tqdm

    written = 0
    bar = tqdm(total=len(todo), desc="answering", unit="q", disable=not progress, dynamic_ncols=True)
    pipes: dict[str, Answerer] = {}
    try:
        with out_path.open("a", encoding="utf-8") as f:
            for system, item in todo:
                if system.generator not in pipes:
                    pipes.clear()  # free the previous model before loading the next
                    pipes[system.generator] = factory(system.generator)
                pipe = pipes[system.generator]
                bar.set_postfix_str(system.name)
                if system.kind == "closed-book":
                    answer = pipe.closed_book(item.question)
                elif config.docs_from_file:
                    answer = pipe.ask(item.question, passages=list(item.docs or ())[: config.k])
                else:
                    answer = pipe.ask(item.question)
                _append(f, answer_record(item, system, answer))
                written += 1
                bar.update(1)
    finally:
        bar.close()
        pipes.clear()
        if pipeline_factory is None:  # our own models: free them before a judge loads its own
            from rag.generation import clear_generator_cache

            clear_generator_cache()
    return RunResult(run_dir, written, skipped, tuple(s.name for s in config.systems()))


def load_run(run_dir: str | Path) -> tuple[dict[str, Any], RunConfig, list[dict[str, Any]]]:
    """A run's ``config.json`` (as a dict and as a :class:`RunConfig`) and its answer records."""
    run_dir = Path(run_dir)
    path = run_dir / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no {CONFIG}); run `rag eval` first")
    doc = json.loads(path.read_text(encoding="utf-8"))
    return doc, config_from_dict(doc.get("run", {})), read_outputs(run_dir / OUTPUTS)


def with_overrides(config: RunConfig, **changes: Any) -> RunConfig:
    """``config`` with the given fields replaced (None values are ignored)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


# ---------------------------------------------------------------- helpers


def _latest(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for r in records:
        out[(r["system"], r["id"])] = r
    return out


def write_alce_outputs(run_dir: str | Path) -> list[Path]:
    """Write ``alce-<system>.json`` per system in ALCE's output format (for ALCE's ``eval.py --f``)."""
    from rag.evaluation.asqa import alce_record, read_asqa_file, write_alce_output

    run_dir = Path(run_dir)
    doc, config, records = load_run(run_dir)
    items = {it.id: it for it in read_asqa_file(config.data_path())}
    by_system: dict[str, list[dict[str, Any]]] = {}
    for (system, qid), rec in _latest(records).items():
        if qid not in items:
            raise ValueError(f"question {qid} of {run_dir} is not in {config.data_path()}")
        docs = [Passage(id=str(p.get("id")), text=p.get("text", ""), title=p.get("title", "")) for p in rec["passages"]]
        by_system.setdefault(system, []).append(alce_record(items[qid], rec["output"], docs))
    paths = []
    for system, data in by_system.items():
        args = {"system": system, "k": config.k, "prompt": config.prompt, "corpus": doc.get("corpus")}
        paths.append(write_alce_output(run_dir / f"alce-{_slug(system.replace('/', '_'))}.json", data, args))
    return paths
