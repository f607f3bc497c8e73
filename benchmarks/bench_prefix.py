"""Benchmark: a fresh model load that evaluates its fixed prompt prefix (old) against one that
restores the prefix's llama.cpp state saved by an earlier load (new, ``rag.kvcache``), for the
default generator and both default judges, in one run.

    python benchmarks/bench_prefix.py [--repeats 3]

For each model: load it, ready the prefix (generator: the prompt beginning ``Pipeline.prime``
computes for the default prompt; judge: its instruction prefix), answer one question (generator,
greedy) or one pair (judge), close. Old: each load has an empty state folder, so the prefix is
evaluated. New: a folder where the first load saved the state. Prints the median seconds of
loading + readying + answering over ``--repeats`` loads, the ratio old / new, the prefix length,
the state's size on disk, and whether the answers (the generator's text; the judge's
probability) are identical. Run it alone: it times language models on the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

QUESTION = "Who has the highest goals in world football?"
PASSAGE_TEXT = (
    "Josef Bican is estimated to have scored over 805 goals in official matches, the most by any player. "
    "Lionel Messi holds the record for the most goals in a calendar year."
)
CLAIM = "Josef Bican scored over 805 official goals."


def _timed(job: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = job()
    return time.perf_counter() - t0, out


def generator_job(name: str) -> Callable[[], tuple[str, int, str]]:
    from rag import Pipeline, PipelineConfig
    from rag.generation.llamacpp import LlamaCppGenerator
    from rag.generation.prompts import rag_messages
    from rag.models import resolve_generator
    from rag.types import Passage

    path = resolve_generator(name)

    def job() -> tuple[str, int, str]:
        gen = LlamaCppGenerator(path, name=name)
        pipe = Pipeline(gen, None, PipelineConfig())
        how = pipe.prime()
        passages = [Passage(id="1", title="Josef Bican", text=PASSAGE_TEXT)]
        messages = rag_messages(QUESTION, passages, style=pipe.config.prompt)  # the default prompt's messages
        text = gen.generate(messages, pipe.config.generation).text
        n = gen.llama.n_tokens
        gen.close()
        return text, n, str(how)

    return job


def judge_job(name: str) -> Callable[[], tuple[float, int, str]]:
    from rag.judges.llm import LLMJudge

    def job() -> tuple[float, int, str]:
        judge = LLMJudge(name)
        p = judge.probability(f"Title: Josef Bican\n{PASSAGE_TEXT}", CLAIM)
        n = len(judge._prefix)
        judge.close()
        return p, n, ""

    return job


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from rag.citing.attribution import DEFAULT_ATTRIBUTION_JUDGE
    from rag.generation.load import DEFAULT_GENERATOR
    from rag.judges.llm import DEFAULT_LLM_JUDGE_MODEL
    from rag.paths import CACHE_ENV, cache_dir

    print(f"# bench_prefix: {platform.machine()}, {os.cpu_count()} CPUs; {args.repeats} loads each, median")
    print("| model | prefix tokens | state MiB | old s | new s | old / new | same answer |")
    print("|---|---|---|---|---|---|---|")
    models = cache_dir() / "models"
    jobs = [
        (f"generator {DEFAULT_GENERATOR}", generator_job(DEFAULT_GENERATOR)),
        (f"attribution judge {DEFAULT_ATTRIBUTION_JUDGE}", judge_job(DEFAULT_ATTRIBUTION_JUDGE.removeprefix("llm:"))),
        (f"evaluation judge llm:{DEFAULT_LLM_JUDGE_MODEL}", judge_job(DEFAULT_LLM_JUDGE_MODEL)),
    ]
    for label, job in jobs:
        old_s, new_s, answers, hows = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            saved = Path(tmp) / "saved"
            saved.mkdir()
            if models.is_dir():
                (saved / "models").symlink_to(models)
            os.environ[CACHE_ENV] = str(saved)
            job()  # the first load evaluates and saves the state (not timed)
            for i in range(args.repeats):
                empty = Path(tmp) / f"empty{i}"
                empty.mkdir()
                if models.is_dir():
                    (empty / "models").symlink_to(models)
                os.environ[CACHE_ENV] = str(empty)
                s, (old_answer, n_prefix, how_old) = _timed(job)
                old_s.append(s)
                os.environ[CACHE_ENV] = str(saved)
                s, (new_answer, _, how_new) = _timed(job)
                new_s.append(s)
                answers.append(old_answer == new_answer)
                hows.append((how_old, how_new))
            size = sum(p.stat().st_size for p in (saved / "prefix-states").glob("*.state"))
        old, new = statistics.median(old_s), statistics.median(new_s)
        same = "yes" if all(answers) else f"NO ({answers.count(False)} differ)"
        print(f"| {label} | {n_prefix} | {size / 2**20:.1f} | {old:.2f} | {new:.2f} | {old / new:.2f}x | {same} |")
        if hows[0][0]:
            print(f"#   generator prefix readied as: old {hows[0][0]}, new {hows[0][1]}")


if __name__ == "__main__":
    main()
