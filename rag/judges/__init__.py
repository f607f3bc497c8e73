"""Judges: does a premise (cited passages) entail a hypothesis (a statement)? LLM, NLI, TRUE, cached."""

from rag.judges.base import Judge
from rag.judges.cache import CachedJudge
from rag.judges.load import DEFAULT_JUDGE, JUDGE_FORMS, canonical_judge, load_judge, same_judge

__all__ = ["DEFAULT_JUDGE", "JUDGE_FORMS", "CachedJudge", "Judge", "canonical_judge", "load_judge", "same_judge"]
