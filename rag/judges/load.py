"""Judges by name: ``verifier``, ``llm``, ``llm:<model>``, ``hf:<model>``, ``nli:<id>``, ``true``, ``true:<id>``."""

from __future__ import annotations

from pathlib import Path

from rag.errors import RagError
from rag.judges.base import Judge
from rag.judges.cache import CachedJudge
from rag.judges.causal import TransformersJudge
from rag.judges.hf import TRUE_MODEL, NLIJudge, TrueJudge
from rag.judges.llm import DEFAULT_LLM_JUDGE_MODEL, LLMJudge
from rag.judges.verifier import VerifierJudge
from rag.models import get_spec

DEFAULT_JUDGE = "llm"
JUDGE_FORMS = (
    '"verifier"',
    '"llm"',
    '"llm:<model name or GGUF path>"',
    '"hf:<model name, GGUF path, HF folder or id>"',
    '"nli:<Hugging Face id or path>"',
    '"true"',
    '"true:<Hugging Face id or path>"',
)


def canonical_judge(name: str) -> str:
    """A judge name in one spelling: ``llm`` becomes ``llm:qwen2.5-1.5b``, model aliases become
    the registry's short name, ``true`` becomes ``true:google/t5_xxl_true_nli_mixture``."""
    kind, _, arg = (name or "").strip().partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind == "llm":
        arg = arg or DEFAULT_LLM_JUDGE_MODEL
        spec = get_spec(arg)
        return f"llm:{spec.name if spec else arg}"
    if kind == "true":
        return f"true:{arg or TRUE_MODEL}"
    if kind == "hf":
        arg = arg or DEFAULT_LLM_JUDGE_MODEL
        spec = get_spec(arg)
        return f"hf:{spec.name if spec else arg}"
    return f"{kind}:{arg}" if arg else kind


def same_judge(a: str, b: str) -> bool:
    """Whether two judge names denote the same judge (e.g. ``llm`` and ``llm:qwen2.5-1.5b``)."""
    return canonical_judge(a) == canonical_judge(b)


def load_judge(name: str = DEFAULT_JUDGE, *, cache: bool = True, cache_dir: Path | None = None) -> Judge:
    """A judge by name: ``verifier`` (the cross-encoder trained here, :mod:`rag.judges.verifier`),
    ``llm``, ``llm:<model>``, ``hf:<model>`` (the LLM judge's question on
    transformers, batched: the GPU path), ``nli:<hf id or path>``, ``true``, ``true:<id>``.

    Nothing loads until the first verdict. With ``cache`` the judge is wrapped in
    :class:`CachedJudge`. An unknown name raises ``ValueError`` listing the accepted forms.
    """
    kind, sep, arg = (name or "").strip().partition(":")
    kind = kind.strip().lower()
    arg = arg.strip()
    judge: Judge
    if sep and not arg:
        raise RagError(f"judge {name!r} names no model after ':'; use one of {', '.join(JUDGE_FORMS)}")
    if kind == "verifier" and not sep:
        judge = VerifierJudge()
    elif kind == "llm":
        judge = LLMJudge(arg or DEFAULT_LLM_JUDGE_MODEL)
    elif kind == "hf":
        judge = TransformersJudge(arg or DEFAULT_LLM_JUDGE_MODEL)
    elif kind == "nli" and arg:
        judge = NLIJudge(arg)
    elif kind == "true":
        judge = TrueJudge(arg or TRUE_MODEL)
    else:
        raise RagError(f"unknown judge {name!r}: use one of {', '.join(JUDGE_FORMS)}")
    return CachedJudge(judge, cache_dir) if cache else judge
