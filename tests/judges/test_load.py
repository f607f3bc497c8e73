"""rag.judges.load: judge names read (and refused), and the spellings of one judge."""

from __future__ import annotations

import pytest

from rag.judges import DEFAULT_JUDGE, CachedJudge, load_judge
from rag.judges.hf import NLIJudge, TrueJudge
from rag.judges.llm import LLMJudge


def test_load_judge_names() -> None:
    assert DEFAULT_JUDGE == "llm"
    j = load_judge()
    assert isinstance(j, CachedJudge) and isinstance(j.inner, LLMJudge)
    assert j.name == "llm:qwen2.5-1.5b" and not j.official
    raw = load_judge("llm:qwen2.5-0.5b", cache=False)
    assert isinstance(raw, LLMJudge) and raw.name == "llm:qwen2.5-0.5b"
    assert load_judge("llm:/models/x.gguf", cache=False).name == "llm:x.gguf"
    nli = load_judge("nli:cross-encoder/nli-deberta-v3-base", cache=False)
    assert isinstance(nli, NLIJudge) and nli.name == "nli:cross-encoder/nli-deberta-v3-base" and not nli.official
    true = load_judge("true", cache=False)
    assert isinstance(true, TrueJudge) and true.official and true.name == "true:google/t5_xxl_true_nli_mixture"
    assert load_judge("true:/local/t5", cache=False).name == "true:/local/t5"
    assert load_judge(" LLM ", cache=False).name == "llm:qwen2.5-1.5b"


@pytest.mark.parametrize("bad", ["", "bogus", "nli", "nli:", "llm:", "true: ", "gpt:4"])
def test_load_judge_rejects_unknown_forms(bad: str) -> None:
    with pytest.raises(ValueError, match="nli:<Hugging Face id or path>"):
        load_judge(bad)


def test_same_judge_reads_the_spellings_of_one_judge() -> None:
    from rag.judges import canonical_judge, same_judge

    assert canonical_judge("llm") == "llm:qwen2.5-1.5b"
    assert same_judge("llm", "llm:qwen2.5-1.5b")
    assert same_judge("LLM:qwen2.5-1.5b", "llm")
    assert not same_judge("llm", "llm:qwen2.5-0.5b")
    assert same_judge("true", "true:google/t5_xxl_true_nli_mixture")
