"""Agreement of the batched transformers judge (``hf:MODEL``) with the llama.cpp judge
(``llm:MODEL``) on the labelled pairs, both on the same packaged GGUF, in one run.

transformers de-quantises the GGUF and computes in fp32 (fp16 on a GPU); llama.cpp computes with
the quantised weights. Prints: verdict agreement, the largest difference in P(yes), each judge's
accuracy against the labels, pairs per second for each, and that batching changes nothing
(batch size 1 against the default on the first 20 pairs).

    python experiments/judge-agreement/hf_agreement.py [--model qwen2.5-0.5b] [--pairs tests/data/judge_pairs.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--pairs", type=Path, default=ROOT / "tests" / "data" / "judge_pairs.jsonl")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import numpy as np
    import torch

    from rag.judges.causal import TransformersJudge
    from rag.judges.llm import LLMJudge

    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [(r["premise"], r["hypothesis"]) for r in rows]
    labels = np.array([bool(r["label"]) for r in rows])

    llama = LLMJudge(args.model)
    t0 = time.perf_counter()
    p_llama = np.array([llama.probability(p, h) for p, h in pairs])
    t_llama = time.perf_counter() - t0  # includes loading

    hf = TransformersJudge(args.model, device=args.device)
    t0 = time.perf_counter()
    hf._load()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    p_hf = np.array(hf.probabilities(pairs))
    t_hf = time.perf_counter() - t0
    single = TransformersJudge(args.model, device=args.device, batch_size=1)
    single._model, single._tokenizer, single._yes, single._no = hf._model, hf._tokenizer, hf._yes, hf._no
    p_single = np.array(single.probabilities(pairs[:20]))

    v_llama, v_hf = p_llama >= llama.threshold, p_hf >= hf.threshold
    print(f"# hf_agreement: model {args.model}, {len(pairs)} labelled pairs ({args.pairs.name}), device {hf.device}")
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads; threshold {hf.threshold}")
    print(f"verdicts agree on {int((v_llama == v_hf).sum())} of {len(pairs)} pairs ({(v_llama == v_hf).mean():.3f})")
    print(f"largest |P(yes) llama.cpp - P(yes) transformers|: {np.abs(p_llama - p_hf).max():.3f}")
    acc_llama, acc_hf = (v_llama == labels).mean(), (v_hf == labels).mean()
    print(f"accuracy against the labels: llama.cpp {acc_llama:.3f}, transformers {acc_hf:.3f}")
    print(
        f"pairs/s: llama.cpp {len(pairs) / t_llama:.2f} (loading included), transformers batch {hf.batch_size} "
        f"{len(pairs) / t_hf:.2f} (loading {t_load:.0f} s not included); ratio {t_llama / t_hf:.2f}x"
    )
    worst = np.abs(p_single - p_hf[:20]).max()
    print(f"batch size 1 vs {hf.batch_size}, first 20 pairs: largest |P(yes) difference| {worst:.2e}")


if __name__ == "__main__":
    main()
