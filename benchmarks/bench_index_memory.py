"""Peak memory of `rag index` on one large text file and on a folder of many small files.

Each case runs the real command line (`rag index FOLDER --name TMP --overwrite`) in its own
process and reads that process's peak resident set size from the kernel (``wait4``). The
baseline, measured in the same run, is the same command on the README's sample corpus (five
small files): what loading the embedder and building any index costs. Each case prints its peak
as a ratio to that baseline, beside its time and passages.

The text is real prose: the Wikipedia passages of the ASQA corpus (``$RAG_SHARED_DATA/asqa/
corpus.jsonl``, or ``--corpus``), each case numbered so that no passage repeats another.

    python benchmarks/bench_index_memory.py --out benchmarks/bench_index_memory.txt
    python benchmarks/bench_index_memory.py --cases 10mb files  # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runinfo import opening_lines

REPO = Path(__file__).resolve().parents[1]
CASES = {"10mb": "one 10 MB text file", "50mb": "one 50 MB text file", "files": "a folder of 5,000 small files"}


def corpus_text(corpus: Path) -> list[str]:
    """The corpus's passages as paragraphs: title line, blank line, text."""
    out = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            out.append(f"{record.get('title', '')}\n\n{record['text']}")
    return out


def one_file(paragraphs: list[str], megabytes: int, folder: Path) -> None:
    """``folder/big.txt``: the corpus's paragraphs over and over, each round under its own
    heading line, cut at ``megabytes`` MB (10^6 bytes)."""
    folder.mkdir(parents=True)
    target = megabytes * 1_000_000
    written = 0
    with (folder / "big.txt").open("w", encoding="utf-8") as fh:
        round_ = 0
        while written < target:
            for paragraph in paragraphs:
                piece = f"Round {round_}. {paragraph}\n\n"
                fh.write(piece)
                written += len(piece.encode("utf-8"))
                if written >= target:
                    break
            round_ += 1


def many_files(paragraphs: list[str], count: int, folder: Path) -> None:
    """``count`` files of one paragraph each (the corpus's first ``count``, numbered)."""
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"note-{i:05d}.txt").write_text(f"Note {i}. {paragraphs[i % len(paragraphs)]}\n", encoding="utf-8")


def run_index(folder: Path, out: Path) -> tuple[float, float, int]:
    """Peak RSS (MiB), wall seconds and passages of `rag index folder` in a child process."""
    rag = Path(sys.executable).with_name("rag")
    log = out.parent / "index.err"
    start = time.perf_counter()
    with log.open("wb") as err:  # a file, not a pipe: the progress bar must never fill a buffer
        proc = subprocess.Popen(
            [str(rag), "index", str(folder), "--name", str(out), "--overwrite"], stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"rag index {folder} failed:\n{log.read_text(encoding='utf-8', errors='replace')[-2000:]}")
    passages = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["passage_count"]
    return usage.ru_maxrss / 1024, seconds, int(passages)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = os.environ.get("RAG_SHARED_DATA")
    ap.add_argument("--corpus", type=Path, default=Path(shared) / "asqa" / "corpus.jsonl" if shared else None)
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    ap.add_argument("--files", type=int, default=5000, help="how many small files in the folder case")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.corpus is None or not args.corpus.is_file():
        print("skipped: no corpus (set RAG_SHARED_DATA to the benchmark data folder, or give --corpus)")
        return 0
    paragraphs = corpus_text(args.corpus)
    lines = [
        *opening_lines(f"text: {len(paragraphs)} passages of {args.corpus.name}"),
        f"{'case':<32} {'input MB':>9} {'passages':>9} {'seconds':>8} {'passages/s':>11} "
        f"{'peak RSS MiB':>13} {'ratio to baseline':>18}",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        work = Path(tmp)
        base_rss, base_s, base_n = run_index(REPO / "data" / "sample", work / "idx")
        row = f"{'baseline: the sample corpus':<32} {'':>9} {base_n:>9} {base_s:8.1f} {base_n / base_s:11.1f} "
        lines.append(row + f"{base_rss:13.0f} {1.0:18.2f}")
        print(lines[-1], flush=True)
        for case in args.cases:
            folder = work / case
            if case == "files":
                many_files(paragraphs, args.files, folder)
            else:
                one_file(paragraphs, int(case.removesuffix("mb")), folder)
            size = sum(p.stat().st_size for p in folder.iterdir()) / 1_000_000
            rss, seconds, n = run_index(folder, work / "idx")
            label = CASES[case] if case != "files" else f"a folder of {args.files:,} small files"
            lines.append(
                f"{label:<32} {size:9.1f} {n:>9} {seconds:8.1f} {n / seconds:11.1f} {rss:13.0f} {rss / base_rss:18.2f}"
            )
            print(lines[-1], flush=True)
            shutil.rmtree(folder)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
