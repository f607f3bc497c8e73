"""Build the pool-only index: the shared corpus without the annotators' evidence snippets.

The `asqa` index holds the human-picked `knowledge` snippets of every dev question, so the
answer is always in the corpus, often verbatim. Real retrieval has no such help: the pool-only
corpus keeps only the passages that published retrieval setups returned from all of Wikipedia
(`corpus.jsonl` rows whose `source` is not `asqa_dev_knowledge_snippets`: 7,789 passages), and the
answer must be found among retrieved distractors. The filtered corpus is written to a temporary
file (never into the repository) and indexed as `indexes/poolonly`:

    python experiments/evidence-choice/poolonly.py [--name poolonly] [--overwrite]
    rag eval --subset pooled300 --index poolonly --no-baseline --judge none --run answers-poolonly
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from rag.indexing.store import build_index, resolve_index_path

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = "asqa_dev_knowledge_snippets"


def default_data_dir() -> Path:
    """``$RAG_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    env = os.environ.get("RAG_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def use_data_dir(path: Path) -> Path:
    """``path`` if it holds the ASQA data (``asqa/``), else exit saying what to pass; the library
    calls that read the data themselves are pointed at it too (``$RAG_SHARED_DATA``)."""
    if not (path / "asqa").is_dir():
        sys.exit(f"no benchmark data at {path} (no asqa/ in it): pass --data-dir or set RAG_SHARED_DATA")
    os.environ["RAG_SHARED_DATA"] = str(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="poolonly")
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()

    corpus = use_data_dir(args.data_dir) / "asqa" / "corpus.jsonl"
    kept = [line for line in corpus.read_text(encoding="utf-8").splitlines() if json.loads(line)["source"] != SNIPPETS]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus-poolonly.jsonl"
        src.write_text("\n".join(kept) + "\n", encoding="utf-8")
        index = build_index([src], resolve_index_path(args.name), overwrite=args.overwrite, show_progress=False)
    print(f"{index.path}: {len(kept)} corpus rows without {SNIPPETS}, {len(index)} passages")


if __name__ == "__main__":
    main()
