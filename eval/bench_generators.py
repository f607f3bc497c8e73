"""Latency and citation behaviour of the packaged generators on a few ASQA questions.

For each model: load it, then answer the first N questions of ALCE's 10-question ASQA sample
with the project's prompt (``rag.prompts.rag_messages``) and each question's top-5 GTR ``docs``
as passages (no index needed). Records prompt size, time to first token, total time, decode
speed, the answers, and how many sentences carry a valid citation. The KV cache is cleared
before each question, so times are those of a single cold ``rag ask``.

    python eval/bench_generators.py --models smollm2-135m qwen2.5-0.5b qwen2.5-1.5b
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import string
import time
from pathlib import Path

from rag.generation import GenerationConfig, LlamaCppGenerator, load_generator
from rag.models import resolve_generator
from rag.paths import nltk_data_dir, shared_data_dir
from rag.prompts import rag_messages
from rag.types import Passage

MARKER = re.compile(r"\[(\d+)\]")


def _normalize(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _sentences(text: str) -> list[str]:
    import nltk

    if str(nltk_data_dir()) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_data_dir()))
    return [s for s in nltk.sent_tokenize(text) if s.strip()]


def citation_stats(text: str, n_passages: int) -> dict[str, float | int]:
    """Sentences, sentences with at least one in-range [n], out-of-range markers."""
    sents = _sentences(text)
    cited = 0
    invalid = 0
    for s in sents:
        nums = [int(m) for m in MARKER.findall(s)]
        invalid += sum(1 for n in nums if not 1 <= n <= n_passages)
        if any(1 <= n <= n_passages for n in nums):
            cited += 1
    # a marker on its own after the full stop becomes its own "sentence": count it with the previous
    return {"sentences": len(sents), "cited_sentences": cited, "invalid_markers": invalid}


def str_em(text: str, qa_pairs: list[dict]) -> float:
    """ALCE's str_em: share of sub-questions with any short answer in the output."""
    out = _normalize(MARKER.sub("", text))
    hits = [any(_normalize(a) in out for a in qa["short_answers"]) for qa in qa_pairs]
    return sum(hits) / len(hits) if hits else 0.0


def run_model(name: str, items: list[dict], style: str, max_tokens: int, n_ctx: int) -> dict:
    t0 = time.perf_counter()
    path = resolve_generator(name)
    resolve_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gen = load_generator(name, n_ctx=n_ctx)
    load_s = time.perf_counter() - t0
    cfg = GenerationConfig(max_tokens=max_tokens)
    rows = []
    for item in items:
        passages = [Passage(id=d["id"], text=d["text"], title=d["title"]) for d in item["docs"][:5]]
        messages = rag_messages(item["question"], passages, style=style)
        if isinstance(gen, LlamaCppGenerator):
            gen.llama.reset()  # cold prompt: what one `rag ask` pays
        g = gen.generate(messages, cfg)
        stats = citation_stats(g.text, len(passages))
        rows.append(
            {
                "question": item["question"],
                "answer": g.text,
                "prompt_tokens": g.prompt_tokens,
                "completion_tokens": g.completion_tokens,
                "ttft_s": round(g.time_to_first_token, 3),
                "total_s": round(g.total_time, 3),
                "decode_tok_s": round(g.tokens_per_second, 2),
                "str_em": round(str_em(g.text, item["qa_pairs"]), 3),
                **stats,
            }
        )
    gen.close()
    n_sent = sum(r["sentences"] for r in rows)
    return {
        "model": name,
        "path": path,
        "style": style,
        "resolve_s": round(resolve_s, 2),
        "load_s": round(load_s, 2),
        "mean_prompt_tokens": statistics.mean(r["prompt_tokens"] for r in rows),
        "mean_completion_tokens": statistics.mean(r["completion_tokens"] for r in rows),
        "mean_ttft_s": round(statistics.mean(r["ttft_s"] for r in rows), 2),
        "mean_total_s": round(statistics.mean(r["total_s"] for r in rows), 2),
        "mean_decode_tok_s": round(statistics.mean(r["decode_tok_s"] for r in rows), 1),
        "prompt_tok_s": round(
            statistics.mean(r["prompt_tokens"] / r["ttft_s"] for r in rows if r["ttft_s"] > 0), 1
        ),
        "cited_sentence_rate": round(sum(r["cited_sentences"] for r in rows) / n_sent, 3) if n_sent else 0.0,
        "answers_with_citation": sum(1 for r in rows if r["cited_sentences"] > 0),
        "invalid_markers": sum(r["invalid_markers"] for r in rows),
        "mean_str_em": round(statistics.mean(r["str_em"] for r in rows), 3),
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-0.5b", "qwen2.5-1.5b"])
    ap.add_argument("--styles", nargs="+", default=["default"])
    ap.add_argument("--n", type=int, default=5, help="questions (from the start of the sample)")
    ap.add_argument("--max-tokens", type=int, default=300)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "generators")
    args = ap.parse_args()

    data = shared_data_dir() / "asqa" / "asqa_alce_format_sample10.json"
    items = json.loads(data.read_text(encoding="utf-8"))[: args.n]
    args.out.mkdir(parents=True, exist_ok=True)
    for style in args.styles:
        for name in args.models:
            result = run_model(name, items, style, args.max_tokens, args.n_ctx)
            result["machine"] = f"{platform.machine()}, {__import__('os').cpu_count()} cores"
            out = args.out / f"{name}.{style}.json"
            out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            summary = {k: v for k, v in result.items() if k not in ("rows", "path")}
            print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
