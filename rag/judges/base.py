"""The judge interface: does a premise (cited passages) entail a hypothesis (a statement)?

Implementations: ``rag.judges.llm.LLMJudge`` (a local GGUF model asked yes/no, the default here:
no NLI model can be installed offline), ``rag.judges.hf`` (an NLI cross-encoder and TRUE, ALCE's
own judge), ``rag.judges.cache.CachedJudge`` (verdicts kept on disk); ``rag.judges.load.load_judge``
builds one by name. Every judge has a ``name`` that goes into every report.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

Pair = tuple[str, str]


class Judge(ABC):
    """An entailment judge: ``entails(premise, hypothesis) -> bool``, batched.

    ``name`` identifies the judge in reports and cache keys; ``official`` is True only for TRUE,
    the judge ALCE's published numbers use.
    """

    name: str = "judge"
    official: bool = False
    #: True when a judge answers many pairs at once faster than one by one (a batched model on a
    #: GPU, say); callers that can stop early (attribution) then still ask a whole batch.
    batched: bool = False

    @property
    def cache_id(self) -> str:
        """What the disk cache keys verdicts by, besides the texts (the name, plus any setting
        that changes verdicts, e.g. an LLM judge's prompt version and threshold)."""
        return self.name

    @abstractmethod
    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Verdicts for ``(premise, hypothesis)`` pairs, in order."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to free by default
        """Free the model now (it would otherwise be freed at interpreter exit, when llama.cpp's
        finaliser can no longer run cleanly and prints a traceback)."""

    def entails(self, premise: str, hypothesis: str) -> bool:
        """True when ``premise`` entails ``hypothesis``."""
        return self.entails_batch([(premise, hypothesis)])[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
