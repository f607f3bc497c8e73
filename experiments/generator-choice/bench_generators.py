"""Citation behaviour, quality and speed of a packaged generator under prompt/decoding variants.

One model is loaded once; each variant answers two question sets:

* ``asqa``: the first N questions of ALCE's ``asqa_alce_format_sample10.json`` with their top-5
  GTR ``docs`` as passages (str_em against the ``qa_pairs``);
* ``sample``: the 5 example questions of data/README.md over an index of ``data/sample``
  (top-5 hybrid retrieval; "key facts" hit = share of hand-picked answer strings in the output).

A variant is ``STYLE[+grammar][+rpX]``: ``STYLE`` a ``rag.generation.prompts.rag_messages`` style,
``+grammar`` adds the citation grammar :func:`citation_grammar` (k passages) as
``GenerationConfig.grammar``, ``+rp1.1`` a repeat penalty.
Per variant: share of sentences (``rag.citing.citations.parse_answer``) with a valid citation, answers
without any, invalid markers, str_em / key facts, words per answer, seconds per question,
decode tokens/s. Writes ``<out>/<model>.<variant>.json`` with every answer, prints one summary
line per variant and set.

    python experiments/generator-choice/bench_generators.py --model qwen2.5-0.5b \\
        --variants default default+grammar --sample-index /tmp/sample-idx
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from rag.citing.citations import parse_answer, strip_citations
from rag.evaluation.metrics import str_em
from rag.generation import GenerationConfig, load_generator
from rag.generation.llamacpp import LlamaCppGenerator
from rag.generation.prompts import STYLES, rag_messages
from rag.types import Passage

K = 5
ROOT = Path(__file__).resolve().parents[2]
#: The citation grammar's limits: at most this many ``[n]`` markers end a sentence, and at most
#: this many characters of text come before them.
MAX_MARKERS = 3
MAX_SENTENCE_CHARS = 250

# The example questions of data/README.md and answer strings a correct answer contains.
SAMPLE_QUESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Where were tea and coffee first drunk, and which has more caffeine per cup?", ("China", "Yemen", "coffee")),
    ("How did the printing press and the telegraph change how news travelled?", ("print", "telegraph")),
    ("Who invented movable type?", ("Bi Sheng", "Gutenberg")),
    ("What did Marie Curie discover, and who first found radioactivity?", ("polonium", "radium", "Becquerel")),
    ("Why does coral bleaching happen, and what has photosynthesis to do with it?", ("algae", "temperature")),
)


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


def citation_grammar(n_passages: int, max_sentences: int = 4) -> str:
    """GBNF text (llama.cpp) for answers whose every sentence ends with citations ``[n]``,
    1 <= n <= ``n_passages``: 1 to ``max_sentences`` sentences, each ``<text> [n][m].`` with one to
    ``MAX_MARKERS`` markers and at most ``MAX_SENTENCE_CHARS`` characters of text, which may not
    hold ``[``, ``]``, ``!``, ``?``, a newline or a full stop (so the model must cite to end it)."""
    numbers = " | ".join(f'"{n}"' for n in range(n_passages, 0, -1))
    return "\n".join(
        [
            f'root ::= sentence (" " sentence){{0,{max_sentences - 1}}}',
            f'sentence ::= first rest{{0,{MAX_SENTENCE_CHARS - 1}}} cite{{1,{MAX_MARKERS}}} "."',
            r"first ::= [^\[\].!?\n ]",
            r"rest ::= [^\[\].!?\n]",
            f'cite ::= "[" ({numbers}) "]"',
            "",
        ]
    )


def parse_variant(variant: str) -> tuple[str, bool, float]:
    """``"default+grammar+rp1.1"`` -> ("default", True, 1.1)."""
    style, *opts = variant.split("+")
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r} in variant {variant!r}; styles: {', '.join(STYLES)}")
    grammar, rp = False, 1.0
    for opt in opts:
        if opt == "grammar":
            grammar = True
        elif opt.startswith("rp"):
            rp = float(opt[2:])
        else:
            raise ValueError(f"unknown option {opt!r} in variant {variant!r}")
    return style, grammar, rp


def asqa_items(n: int, data_dir: Path) -> list[dict]:
    """(question, passages, qa_pairs) of the first ``n`` ASQA sample questions."""
    data = json.loads((data_dir / "asqa" / "asqa_alce_format_sample10.json").read_text("utf-8"))
    return [
        {
            "set": "asqa",
            "question": it["question"],
            "passages": [Passage(id=d["id"], text=d["text"], title=d["title"]) for d in it["docs"][:K]],
            "qa_pairs": it["qa_pairs"],
        }
        for it in data[:n]
    ]


def sample_items(index_path: Path) -> list[dict]:
    """The data/README.md example questions with their top-5 hybrid passages."""
    from rag.indexing.store import load_index
    from rag.retrieval import Retriever

    retriever = Retriever(load_index(index_path, device="cpu"))
    items = []
    for q, keys in SAMPLE_QUESTIONS:
        hits = retriever.retrieve(q, K)
        items.append(
            {
                "set": "sample",
                "question": q,
                "passages": [sp.passage for sp in hits],
                "qa_pairs": [{"short_answers": [k]} for k in keys],
            }
        )
    return items


def run_variant(gen, variant: str, items: list[dict], max_tokens: int) -> dict:  # noqa: ANN001
    style, use_grammar, rp = parse_variant(variant)
    rows = []
    for item in items:
        passages = item["passages"]
        cfg = GenerationConfig(
            max_tokens=max_tokens,
            grammar=citation_grammar(len(passages)) if use_grammar else None,
            repeat_penalty=rp,
        )
        g = gen.generate(rag_messages(item["question"], passages, style=style), cfg)
        statements = parse_answer(g.text, len(passages))
        plain = strip_citations(g.text)
        rows.append(
            {
                "set": item["set"],
                "question": item["question"],
                "sources": [p.source or p.title for p in passages],
                "answer": g.text,
                "statements": len(statements),
                "cited_statements": sum(1 for s in statements if s.citations),
                "invalid_markers": sum(len(s.invalid_citations) for s in statements),
                "str_em": round(str_em(plain, item["qa_pairs"]), 3),
                "words": len(plain.split()),
                "prompt_tokens": g.prompt_tokens,
                "completion_tokens": g.completion_tokens,
                "total_s": round(g.total_time, 2),
                "ttft_s": round(g.time_to_first_token, 2),
                "decode_tok_s": round(g.tokens_per_second, 1),
            }
        )
    return {"variant": variant, "style": style, "grammar": use_grammar, "repeat_penalty": rp, "rows": rows}


def summarize(rows: list[dict]) -> dict:
    """Aggregate numbers of a list of rows."""
    n_st = sum(r["statements"] for r in rows)
    return {
        "n": len(rows),
        "cited_sentence_rate": round(sum(r["cited_statements"] for r in rows) / n_st, 3) if n_st else 0.0,
        "answers_without_citation": sum(1 for r in rows if r["cited_statements"] == 0),
        "invalid_markers": sum(r["invalid_markers"] for r in rows),
        "str_em": round(statistics.mean(r["str_em"] for r in rows), 3),
        "sentences": round(n_st / len(rows), 2),
        "words": round(statistics.mean(r["words"] for r in rows), 1),
        "s_per_q": round(statistics.mean(r["total_s"] for r in rows), 2),
        "ttft_s": round(statistics.mean(r["ttft_s"] for r in rows), 2),
        "decode_tok_s": round(statistics.mean(r["decode_tok_s"] for r in rows if r["decode_tok_s"] > 0), 1)
        if any(r["decode_tok_s"] > 0 for r in rows)
        else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--variants", nargs="+", default=["default"])
    ap.add_argument("--asqa-n", type=int, default=10, help="ASQA questions (from the start of the sample)")
    ap.add_argument("--sample-index", type=Path, help="index of data/sample (skip the sample set if absent)")
    ap.add_argument("--max-tokens", type=int, default=200)
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "variants")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="the benchmark data, holding asqa/ (default: $RAG_SHARED_DATA, else ../shared/data beside the repository)",
    )
    args = ap.parse_args()

    items = asqa_items(args.asqa_n, use_data_dir(args.data_dir))
    if args.sample_index:
        items += sample_items(args.sample_index)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    gen = load_generator(args.model, n_ctx=args.n_ctx)
    load_s = time.perf_counter() - t0
    for variant in args.variants:
        if isinstance(gen, LlamaCppGenerator):
            gen.llama.reset()
        result = run_variant(gen, variant, items, args.max_tokens)
        result.update(
            model=args.model,
            load_s=round(load_s, 2),
            max_tokens=args.max_tokens,
            machine=f"{platform.machine()}, {os.cpu_count()} cores",
        )
        for name in ("asqa", "sample"):
            rows = [r for r in result["rows"] if r["set"] == name]
            if rows:
                result[f"summary_{name}"] = summarize(rows)
                line = {"model": args.model, "variant": variant, "set": name, **result[f"summary_{name}"]}
                print(json.dumps(line), flush=True)
        out = args.out / f"{args.model}.{variant}.json"
        out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    gen.close()


if __name__ == "__main__":
    main()
