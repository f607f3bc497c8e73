"""Build the pool-only index: the shared corpus without the annotators' evidence snippets.

The `asqa` index holds the human-picked `knowledge` snippets of every dev question, so the
answer is always in the corpus, often verbatim. Real retrieval has no such help: the pool-only
corpus keeps only the passages that published retrieval setups returned from all of Wikipedia
(`corpus.jsonl` rows whose `source` is not `asqa_dev_knowledge_snippets`: 7,789 passages), and the
answer must be found among retrieved distractors. The filtered corpus is written to a temporary
file (never into the repository) and indexed as `indexes/poolonly`:

    python eval/answers/poolonly.py [--name poolonly] [--overwrite]
    rag eval --subset pooled300 --index poolonly --no-baseline --judge none --run answers-poolonly
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SNIPPETS = "asqa_dev_knowledge_snippets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="poolonly")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()

    from rag.indexing.store import build_index, resolve_index_path
    from rag.paths import shared_data_dir

    corpus = shared_data_dir() / "asqa" / "corpus.jsonl"
    kept = [line for line in corpus.read_text(encoding="utf-8").splitlines() if json.loads(line)["source"] != SNIPPETS]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus-poolonly.jsonl"
        src.write_text("\n".join(kept) + "\n", encoding="utf-8")
        index = build_index([src], resolve_index_path(args.name), overwrite=args.overwrite, show_progress=False)
    print(f"{index.path}: {len(kept)} corpus rows without {SNIPPETS}, {len(index)} passages")


if __name__ == "__main__":
    main()
