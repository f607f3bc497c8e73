"""Where a cold ``rag ask`` spends its loading time: each step timed in turn, in one new process.

    python benchmarks/profile_cold_load.py [--index asqa]

Steps, in the order ``Pipeline.from_names`` needs them (there the generator's two run in a second
thread beside the others): importing ``rag.pipeline``; loading the index (torch is imported only
where a GPU driver is present); loading the default generator; readying its prompt prefix
(restored from disk when an earlier process saved it, else evaluated: run the script twice to see
both); loading the index's embedder (numpy on a CPU, see ``rag.indexing.encoder``; torch and
sentence-transformers otherwise); the first retrieval. Prints seconds per step and which heavy
libraries the process imported. Run it alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default="asqa")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows: list[tuple[str, float]] = []
    t0 = time.perf_counter()

    def lap(label: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        rows.append((label, now - t0))
        t0 = now

    from rag.pipeline import Pipeline, PipelineConfig

    lap("import rag.pipeline")
    from rag.indexing.store import load_index, resolve_index_path

    index = load_index(resolve_index_path(args.index))
    lap("load the index")
    from rag.generation import DEFAULT_GENERATOR, load_generator

    generator = load_generator(DEFAULT_GENERATOR)
    lap(f"load the generator {DEFAULT_GENERATOR}")
    pipe = Pipeline(generator, index, PipelineConfig())
    how = pipe.prime()
    lap(f"ready its prompt prefix ({how})")
    _ = index.embedder
    lap(f"load the embedder ({index.embedder.backend})")
    pipe.retrieve("who won the world cup in 1998")
    lap("first retrieval")
    print(f"# profile_cold_load: index {args.index}, one new process")
    print("| step | s |")
    print("|---|---|")
    for label, s in rows:
        print(f"| {label} | {s:.2f} |")
    print(f"| total | {sum(s for _, s in rows):.2f} |")
    heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
    print(f"imported: {', '.join(heavy) or 'none of torch, sentence_transformers, transformers'}")


if __name__ == "__main__":
    main()
