"""``rag eval``: the ASQA benchmark (ALCE metrics), re-scoring, reports, retrieval-only, judge-check.

Mounted by ``rag/cli.py`` as ``app.add_typer(eval_app, name="eval")``. A thin layer: it parses
options, calls :mod:`rag.evaluation.runner` / :mod:`rag.evaluation.report`, prints the table.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from rag.attribution import DEFAULT_ATTRIBUTION_JUDGE
from rag.cli_common import errors_as_exit, fail

eval_app = typer.Typer(
    help="Evaluate on ASQA exactly as ALCE scores it, beside a closed-book baseline.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

RESULTS_DIR = Path("eval") / "results"
BENCHMARKS = ("asqa",)


def _command_line() -> str:
    return "rag " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else "rag eval"


def resolve_run_dir(run: str, results_dir: Path = RESULTS_DIR) -> Path:
    """A run given by name (under ``eval/results``) or by path."""
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
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    return names


@eval_app.callback(invoke_without_command=True)
def eval_main(
    ctx: typer.Context,
    benchmark: str = typer.Option("asqa", "--benchmark", "-b", help="Benchmark: asqa."),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="ASQA dev JSON or ALCE's asqa_eval_gtr_top100.json (default: $RAG_ASQA or the shared asqa_dev.json).",
    ),
    docs_from_file: bool = typer.Option(
        False, "--docs-from-file", help="Use each question's own docs (ALCE format) instead of retrieval."
    ),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Answer only the first N questions."),
    subset: str | None = typer.Option(None, "--subset", help="pooled300, or a file of question ids."),
    seed: int | None = typer.Option(None, "--seed", help="Shuffle the questions with this seed before --limit."),
    index: str = typer.Option("asqa", "--index", "-i", help="Index name or path (for retrieval)."),
    k: int = typer.Option(5, "--k", "-k", help="Passages given to the generator."),
    generators: str = typer.Option(
        "qwen2.5-0.5b", "--generators", "-g", help="Comma-separated generators answering with retrieval."
    ),
    closed_book: bool = typer.Option(
        False, "--closed-book", help="Also answer closed-book with each generator (the 2x2)."
    ),
    baseline: str = typer.Option("qwen2.5-1.5b", "--baseline", help="Closed-book baseline model."),
    no_baseline: bool = typer.Option(False, "--no-baseline", help="Run no closed-book baseline."),
    judge: str = typer.Option("llm", "--judge", "-j", help="Judge: llm, llm:<model>, nli:<id>, true, or none."),
    prompt: str = typer.Option("quote", "--prompt", help="Prompt: quote | default | alce."),
    constrain: bool = typer.Option(
        False, "--constrain/--no-constrain", help="Decode so that every sentence ends with citations [n]."
    ),
    cite: str = typer.Option("posthoc", "--cite", help="Citations: posthoc | model (the generator's own)."),
    samples: int = typer.Option(1, "--samples", help="Draw N answers, keep the best-cited (attribution judge)."),
    hide_unsupported: bool = typer.Option(
        True,
        "--hide-unsupported/--keep-unsupported",
        help="Leave out statements the attribution judge finds unsupported.",
    ),
    quote_fallback: bool = typer.Option(
        True,
        "--quote-fallback/--no-quote-fallback",
        help="With --hide-unsupported: an emptied answer quotes the nearest passage sentences.",
    ),
    attribution_judge: str = typer.Option(
        DEFAULT_ATTRIBUTION_JUDGE,
        "--attribution-judge",
        help="Judge for --cite posthoc, --samples, --hide-unsupported.",
    ),
    run: str | None = typer.Option(None, "--run", "-r", help="Run name (under eval/results) or directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue a run: skip the questions already answered."),
    alce_output: bool = typer.Option(False, "--alce-output", help="Also write ALCE-format JSON per system."),
    retrieval_only: bool = typer.Option(
        False, "--retrieval-only", help="Only evaluate retrieval (recall@k), no generation."
    ),
    score: bool = typer.Option(True, "--score/--no-score", help="Score the answers when the run ends."),
    alce_exact: bool = typer.Option(
        True,
        "--alce-exact/--robust",
        help="ALCE's sentence split and citation regex, or the project's robust parser.",
    ),
    results_dir: Path = typer.Option(RESULTS_DIR, "--results-dir", help="Where runs live."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
) -> None:
    """Run a benchmark: answer, score with ALCE's metrics, write the report."""
    if ctx.invoked_subcommand is not None:
        return
    with errors_as_exit():
        if benchmark not in BENCHMARKS:
            fail(f"unknown benchmark {benchmark!r}; available: {', '.join(BENCHMARKS)}")
        if data is not None and not data.is_file():
            raise FileNotFoundError(f"--data {data} not found: pass an ASQA dev JSON or an ALCE-format file")
        if subset is not None:
            from rag.evaluation.asqa import load_subset_ids

            load_subset_ids(subset)  # fail early on an unknown subset
        if retrieval_only:
            _retrieval_only(data, subset, index, k, run, results_dir)
            return
        from rag.evaluation import runner

        config = runner.RunConfig(
            benchmark=benchmark,
            data=str(data) if data else None,
            docs_from_file=docs_from_file,
            limit=limit,
            subset=subset,
            seed=seed,
            index=None if docs_from_file else index,
            k=k,
            prompt=prompt,
            constrain_citations=constrain,
            cite=cite,
            samples=samples,
            hide_unsupported=hide_unsupported,
            quote_fallback=quote_fallback,
            attribution_judge=attribution_judge,
            generators=_split_names(generators),
            closed_book=closed_book,
            baseline=None if no_baseline else baseline,
            judge=judge,
        )
        run_dir = resolve_run_dir(run or default_run_name(subset, docs_from_file, index, k, prompt), results_dir)
        if config.self_graded():
            typer.secho(
                f"warning: the attribution judge {attribution_judge} is also the scoring judge {judge}: "
                "the run grades itself (the report says so)",
                fg=typer.colors.YELLOW,
                err=True,
            )
        result = runner.run_benchmark(config, run_dir, resume=resume, device=device)
        typer.secho(
            f"{run_dir}: {result.written} answers written, {result.skipped} already there",
            fg=typer.colors.GREEN,
            err=True,
        )
        if alce_output:
            for p in runner.write_alce_outputs(run_dir):
                typer.echo(f"ALCE format: {p}", err=True)
        if score:
            runner.score_run(run_dir, judge, alce_exact=alce_exact, command=_command_line())
            typer.echo((run_dir / "summary.md").read_text(encoding="utf-8"))


def _retrieval_only(
    data: Path | None, subset: str | None, index: str, k: int, run: str | None, results_dir: Path
) -> None:
    from rag.evaluation import retrieval_eval
    from rag.evaluation.asqa import SUBSETS, default_data_path
    from rag.index import resolve_index_path
    from rag.paths import shared_data_dir

    argv = ["--index", str(resolve_index_path(index)), "--data", str(data or default_data_path())]
    if subset:
        ids = shared_data_dir() / "asqa" / SUBSETS[subset] if subset in SUBSETS else Path(subset)
        argv += ["--subset", str(ids), "--subset-only"]
    ks = sorted({1, 3, 5, 10, 20, k})
    argv += [
        "--ks",
        ",".join(map(str, ks)),
        "--out",
        str(resolve_run_dir(run, results_dir) if run else Path("eval") / "retrieval"),
    ]
    rc = retrieval_eval.main(argv)
    if rc:
        raise typer.Exit(rc)


@eval_app.command("score")
def score_cmd(
    run: str = typer.Argument(..., help="Run name (under eval/results) or directory."),
    judge: str | None = typer.Option(
        None, "--judge", "-j", help="Judge (default: the run's); 'none' skips citation metrics."
    ),
    alce_exact: bool = typer.Option(True, "--alce-exact/--robust", help="ALCE's citation reading or the project's."),
    results_dir: Path = typer.Option(RESULTS_DIR, "--results-dir", help="Where runs live."),
) -> None:
    """Re-score a finished run with a judge, without regenerating; rewrites its report."""
    with errors_as_exit():
        from rag.evaluation import runner

        run_dir = resolve_run_dir(run, results_dir)
        runner.score_run(run_dir, judge, alce_exact=alce_exact, command=_command_line())
        typer.echo((run_dir / "summary.md").read_text(encoding="utf-8"))


@eval_app.command("report")
def report_cmd(
    runs: list[str] = typer.Argument(..., help="Scored runs (names under eval/results, or directories)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output directory (default: the run itself, or eval/results/comparison)."
    ),
    results_dir: Path = typer.Option(RESULTS_DIR, "--results-dir", help="Where runs live."),
) -> None:
    """Redraw the report (summary.json, summary.md, chart.png) for one run or several side by side."""
    with errors_as_exit():
        from rag.evaluation.report import report_runs

        dirs = [resolve_run_dir(r, results_dir) for r in runs]
        for d in dirs:
            if not d.is_dir():
                raise FileNotFoundError(f"run {d} not found: give a run name under {results_dir} or a directory")
        target = out or (dirs[0] if len(dirs) == 1 else results_dir / "comparison")
        paths = report_runs(dirs, target)
        typer.echo(paths["md"].read_text(encoding="utf-8"))
        typer.echo(f"chart: {paths['chart']}", err=True)


@eval_app.command(
    "judge-check",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def judge_check_cmd(
    ctx: typer.Context,
    judge: str = typer.Option("llm", "--judge", "-j", help="Judge: llm, llm:<model>, nli:<id>, true."),
    pairs: Path | None = typer.Option(None, "--pairs", help="Labelled (premise, hypothesis, label) JSONL."),
) -> None:
    """Measure a judge's accuracy, precision and recall on labelled pairs (other options pass through)."""
    with errors_as_exit():
        from rag.evaluation import judge_check

        argv = ["--judge", judge, *(["--pairs", str(pairs)] if pairs else []), *ctx.args]
        rc = judge_check.main(argv)
        if rc:
            raise typer.Exit(rc)
