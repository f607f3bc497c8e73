"""``rag eval``: the ASQA benchmark (ALCE metrics), re-scoring, reports, retrieval-only, judge-check.

Mounted by ``rag/cli/commands.py`` as ``app.add_typer(eval_app, name="eval")``. A thin layer: it parses
options, calls :mod:`rag.evaluation` (runner, scoring, report, retrieval, judge_check), prints the table.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from rag.cli.common import errors_as_exit, fail
from rag.cli.options import pipeline_options
from rag.cluster import RayEngine, engine_for
from rag.device import resolve_device
from rag.errors import MissingFileError
from rag.evaluation import judge_check, retrieval
from rag.evaluation.data import SUBSETS, TUNING_SUBSET, default_data_path, read_asqa_file, subset_filter
from rag.evaluation.report import report_runs
from rag.evaluation.rundir import RunConfig, write_alce_outputs
from rag.evaluation.runner import run_benchmark
from rag.evaluation.scoring import score_run
from rag.indexing.store import resolve_index_path
from rag.paths import benchmark_data_dir
from rag.pipeline import PipelineConfig

eval_app = typer.Typer(
    help="Evaluate on ASQA exactly as ALCE scores it, beside a closed-book baseline.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

RESULTS_DIR = Path("results")
ENGINE_HELP = "local (this process) or ray (answer and score on a Ray cluster, docs/scale.md)."
ADDRESS_HELP = "Ray cluster address (default: $RAY_ADDRESS, else a local cluster)."
BENCHMARKS = ("asqa",)
RETRIEVAL_KS = (1, 3, 5, 10, 20)


def _command_line() -> str:
    return "rag " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else "rag eval"


def resolve_run_dir(run: str, results_dir: Path = RESULTS_DIR) -> Path:
    """A run given by name (under ``results/``) or by path."""
    p = Path(run)
    if p.is_dir() or "/" in run or run.startswith("."):
        return p
    return results_dir / run


def default_run_name(subset: str | None, docs_from_file: bool, index: str, k: int, prompt: str) -> str:
    """A stable name, so the same command with ``--resume`` continues the same run."""
    source = "docs" if docs_from_file else Path(index).name
    subset_part = Path(subset).stem if subset else "all"
    return f"asqa-{subset_part}-{source}-k{k}-{prompt}"


def _split_names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def _check_inputs(benchmark: str, data: Path | None, subset: str | None) -> None:
    """Cheap checks before anything loads."""
    if benchmark not in BENCHMARKS:
        fail(f"unknown benchmark {benchmark!r}; available: {', '.join(BENCHMARKS)}")
    if data is not None and not data.is_file():
        raise MissingFileError(f"--data {data} not found: pass an ASQA dev JSON or an ALCE-format file")
    if data is not None:
        read_asqa_file(data)  # a malformed file fails here, before any model loads or folder is made
    if subset is not None:
        subset_filter(subset)  # fail early on an unknown subset


def _retrieval_only(data: Path | None, subset: str | None, index: str, k: int, out: Path) -> None:
    """recall@k of BM25, dense and hybrid retrieval on the index (``rag.evaluation.retrieval``): on
    the ``subset``'s questions only, or on all of them with pooled-300 reported apart."""
    if subset and subset not in SUBSETS:
        ids: Path | None = Path(subset)
    elif subset or data is None:  # a named subset, or the benchmark's own questions: from the data folder
        ids = benchmark_data_dir() / "asqa" / SUBSETS[subset or "pooled300"]
    else:
        ids = None  # a data file of one's own: no subset reported apart
    result = retrieval.run(
        resolve_index_path(index),
        data or default_data_path(),
        out,
        subset=ids,
        ks=sorted({*RETRIEVAL_KS, k}),
        subset_only=subset is not None,
        command=_command_line(),
    )
    typer.echo(json.dumps({key: result[key] for key in ("all", "subset") if key in result}, indent=1))


def _run_and_score(
    config: RunConfig,
    run_dir: Path,
    *,
    resume: bool,
    device: str,
    alce_output: bool,
    score: bool,
    alce_exact: bool,
    engine: RayEngine | None = None,
) -> None:
    if config.self_graded():
        typer.secho(
            f"warning: the attribution judge {config.pipeline.attribution_judge} is also the scoring judge "
            f"{config.judge}: the run grades itself (the report says so)",
            fg=typer.colors.YELLOW,
            err=True,
        )
    result = run_benchmark(config, run_dir, resume=resume, device=device, engine=engine)
    typer.secho(
        f"{run_dir}: {result.written} answers written, {result.skipped} already there", fg=typer.colors.GREEN, err=True
    )
    if alce_output:
        for p in write_alce_outputs(run_dir):
            typer.echo(f"ALCE format: {p}", err=True)
    if score:
        score_run(run_dir, config.judge, alce_exact=alce_exact, command=_command_line(), engine=engine)
        typer.echo((run_dir / "summary.md").read_text(encoding="utf-8"))


# A typer callback declares every option in its signature; the body is short.
@eval_app.callback(invoke_without_command=True)
@pipeline_options
def eval_main(
    ctx: typer.Context,
    benchmark: str = typer.Option("asqa", "--benchmark", "-b", help="Benchmark: asqa."),
    data: Path | None = typer.Option(
        None, "--data", help="ASQA dev JSON or ALCE's asqa_eval_gtr_top100.json (default: $RAG_ASQA or the shared one)."
    ),
    docs_from_file: bool = typer.Option(
        False, "--docs-from-file", help="Use each question's own docs (ALCE format) instead of retrieval."
    ),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Answer only the first N questions."),
    subset: str | None = typer.Option(
        None, "--subset", help=f"pooled300, {TUNING_SUBSET} (the dev questions outside it), or a file of ids."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Shuffle the questions with this seed before --limit."),
    index: str = typer.Option("asqa", "--index", "-i", help="Index name or path (for retrieval)."),
    generators: str = typer.Option("qwen2.5-0.5b", "--generators", "-g", help="Comma-separated generators."),
    closed_book: bool = typer.Option(False, "--closed-book", help="Also answer closed-book with each generator."),
    baseline: str = typer.Option("qwen2.5-1.5b", "--baseline", help="Closed-book baseline model."),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Run no closed-book baseline."),
    judge: str = typer.Option("llm", "--judge", "-j", help="Judge: llm, llm:<model>, verifier, nli:<id>, true, none."),
    run: str | None = typer.Option(None, "--run", "-r", help="Run name (under results/) or directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue a run: skip the questions already answered."),
    alce_output: bool = typer.Option(False, "--alce-output", help="Also write ALCE-format JSON per system."),
    retrieval_only: bool = typer.Option(False, "--retrieval-only", help="Only evaluate retrieval (recall@k)."),
    score: bool = typer.Option(True, "--score/--no-score", help="Score the answers when the run ends."),
    alce_exact: bool = typer.Option(
        True, "--alce-exact/--robust", help="ALCE's sentence split and citation regex, or the project's parser."
    ),
    results_dir: Path = typer.Option(RESULTS_DIR, "--results-dir", help="Where runs live."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    engine: str = typer.Option("local", "--engine", help=ENGINE_HELP),
    address: str | None = typer.Option(None, "--address", help=ADDRESS_HELP),
    workers: int = typer.Option(2, "--workers", help="With --engine ray: workers (each loads its models once)."),
    *,
    pipeline: PipelineConfig,
) -> None:
    """Run a benchmark: answer, score with ALCE's metrics, write the report."""
    if ctx.invoked_subcommand is not None:
        return
    with errors_as_exit():
        _check_inputs(benchmark, data, subset)
        if retrieval_only:
            out = resolve_run_dir(run, results_dir) if run else Path("results") / "retrieval"
            _retrieval_only(data, subset, index, pipeline.k, out)
            return
        config = RunConfig(
            benchmark=benchmark,
            data=str(data) if data else None,
            docs_from_file=docs_from_file,
            limit=limit,
            subset=subset,
            seed=seed,
            index=None if docs_from_file else index,
            pipeline=pipeline,
            generators=_split_names(generators),
            closed_book=closed_book,
            baseline=None if no_baseline else baseline,
            judge=judge,
        )
        name = run or default_run_name(subset, docs_from_file, index, pipeline.k, pipeline.prompt)
        _run_and_score(
            config,
            resolve_run_dir(name, results_dir),
            resume=resume,
            device=device,
            alce_output=alce_output,
            score=score,
            alce_exact=alce_exact,
            engine=engine_for(engine, address=address, workers=workers, device=resolve_device(device)),
        )


@eval_app.command("score")
def score_cmd(
    run: str = typer.Argument(..., help="Run name (under results/) or directory."),
    judge: str | None = typer.Option(
        None, "--judge", "-j", help="Judge (default: the run's); 'none' skips citation metrics."
    ),
    alce_exact: bool = typer.Option(True, "--alce-exact/--robust", help="ALCE's citation reading or the project's."),
    results_dir: Path = typer.Option(RESULTS_DIR, "--results-dir", help="Where runs live."),
    engine: str = typer.Option("local", "--engine", help=ENGINE_HELP),
    address: str | None = typer.Option(None, "--address", help=ADDRESS_HELP),
    workers: int = typer.Option(2, "--workers", help="With --engine ray: workers (each loads the judge once)."),
    device: str = typer.Option("auto", "--device", help="With --engine ray: cuda gives each worker a GPU."),
) -> None:
    """Re-score a finished run with a judge, without regenerating; rewrites its report."""
    with errors_as_exit():
        run_dir = resolve_run_dir(run, results_dir)
        ray_engine = engine_for(engine, address=address, workers=workers, device=resolve_device(device))
        score_run(run_dir, judge, alce_exact=alce_exact, command=_command_line(), engine=ray_engine)
        typer.echo((run_dir / "summary.md").read_text(encoding="utf-8"))


@eval_app.command("report")
def report_cmd(
    runs: list[str] = typer.Argument(..., help="Scored runs (names under results/, or directories)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output directory (default: the run itself, or results/comparison)."
    ),
    results_dir: Path = typer.Option(RESULTS_DIR, "--results-dir", help="Where runs live."),
) -> None:
    """Redraw the report (summary.json, summary.md, chart.png) for one run or several side by side."""
    with errors_as_exit():
        dirs = [resolve_run_dir(r, results_dir) for r in runs]
        for d in dirs:
            if not d.is_dir():
                raise MissingFileError(f"run {d} not found: give a run name under {results_dir} or a directory")
        target = out or (dirs[0] if len(dirs) == 1 else results_dir / "comparison")
        paths = report_runs(dirs, target)
        typer.echo(paths["md"].read_text(encoding="utf-8"))
        typer.echo(f"chart: {paths['chart']}", err=True)


@eval_app.command("judge-check")
def judge_check_cmd(
    judge: str = typer.Option("llm", "--judge", "-j", help="Judge: llm, llm:<model>, verifier, nli:<id>, true."),
    pairs: Path = typer.Option(
        judge_check.DEFAULT_PAIRS, "--pairs", help="Labelled (premise, hypothesis, label) JSONL."
    ),
    split: str = typer.Option("all", "--split", help="all | dev | test (pairs split by question)."),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N pairs."),
    out: Path | None = typer.Option(None, "--out", help="Directory for <judge>.json and <judge>.md."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Read and write the judge's disk cache."),
) -> None:
    """Measure a judge's accuracy, precision and recall on labelled pairs."""
    with errors_as_exit():
        report = judge_check.run_judge_check(
            judge, pairs, split=split, limit=limit, out=out, cache=cache, command=_command_line()
        )
        typer.echo(report)
