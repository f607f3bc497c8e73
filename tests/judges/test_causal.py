"""rag.judges.causal: the batched ``hf:`` judge (the transformers backend on the tiny packaged GGUF,
on CPU) gives the same probabilities at any batch size, and the same verdicts as the llama.cpp
judge on the same model for the labelled pairs (the stated agreement); ``load_judge`` knows ``hf:``."""

from __future__ import annotations

import json
import os

import pytest
from conftest import TEST_DATA

from rag.judges import load_judge
from rag.judges.causal import TransformersJudge
from rag.judges.llm import LLMJudge
from rag.judges.load import canonical_judge

pytest.importorskip("gguf", reason="transformers needs the gguf package to read GGUF files")
pytest.importorskip("accelerate", reason="transformers needs accelerate to load GGUF files")

PAIRS = TEST_DATA / "judge_pairs.jsonl"


TINY = "smollm2-135m"


# Stated agreement of the two judges' verdicts on the labelled pairs, same model, quantised
# (llama.cpp) against de-quantised fp32 (transformers); measured 1.00 for the tiny model and
# reported for qwen2.5-0.5b in eval/judge/hf_agreement.txt.
AGREEMENT = 0.95


@pytest.fixture(scope="module", autouse=True)
def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def hf_judge() -> TransformersJudge:
    judge = TransformersJudge(TINY, device="cpu", batch_size=8)
    judge._load()
    return judge


def _pairs(n: int | None = None) -> list[tuple[str, str, bool]]:
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["premise"], r["hypothesis"], bool(r["label"])) for r in rows][:n]


def test_judge_probabilities_do_not_depend_on_the_batch(hf_judge: TransformersJudge) -> None:
    pairs = [(p, h) for p, h, _ in _pairs(12)]
    alone = TransformersJudge(TINY, device="cpu", batch_size=1)
    alone._model, alone._tokenizer, alone._yes, alone._no = (
        hf_judge._model,
        hf_judge._tokenizer,
        hf_judge._yes,
        hf_judge._no,
    )
    batched = hf_judge.probabilities(pairs)
    one_by_one = alone.probabilities(pairs)
    assert max(abs(a - b) for a, b in zip(batched, one_by_one, strict=True)) < 1e-4
    assert all(0.0 <= p <= 1.0 for p in batched)


@pytest.mark.slow
def test_hf_judge_agrees_with_the_llamacpp_judge(hf_judge: TransformersJudge) -> None:
    pairs = _pairs()
    llama = LLMJudge(TINY)
    a = llama.entails_batch([(p, h) for p, h, _ in pairs])
    b = hf_judge.entails_batch([(p, h) for p, h, _ in pairs])
    agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(pairs)
    assert agree >= AGREEMENT


def test_an_empty_claim_is_not_entailed_without_asking(hf_judge: TransformersJudge) -> None:
    assert hf_judge.entails_batch([("Tea is from China.", "  "), ("Tea is from China.", "")]) == [False, False]


def test_load_judge_knows_hf() -> None:
    judge = load_judge("hf:smollm2-135m", cache=False)
    assert isinstance(judge, TransformersJudge) and judge.name == "hf:smollm2-135m"
    assert canonical_judge("hf") == "hf:qwen2.5-1.5b"
    assert judge.cache_id != LLMJudge(TINY).cache_id  # its own verdict cache
