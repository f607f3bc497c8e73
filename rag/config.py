"""How a question is answered: :class:`PipelineConfig`, every setting of every stage, saved with
each evaluation run and read back (:meth:`PipelineConfig.from_dict`), and changed by name
(:meth:`PipelineConfig.with_settings`, ``--set key=value``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rag.citing.attribution import DEFAULT_ATTRIBUTION_JUDGE, AttributionConfig
from rag.errors import RagError
from rag.evidence import EvidenceConfig
from rag.finish import FinishPolicy
from rag.generation import GenerationConfig
from rag.retrieval import RetrievalConfig

PROMPT_STYLES = ("default", "quote", "evidence", "alce")
#: The most passages a question may be given (more do not fit a small model's context).
MAX_K = 100
CITE_MODES = ("model", "posthoc")


@dataclass(frozen=True)
class PipelineConfig:
    """How a question is answered.

    ``k`` passages are retrieved; ``prompt`` is ``"evidence"`` (the default: the passages reduced
    to the sentences that bear on the question, ``evidence`` says how they are chosen, and a short
    composed answer; when no sentence bears on the question the answer says so,
    ``Answer.answered`` False), ``"default"`` (the project's own, whole passages), ``"quote"``
    (whole passages, asking for sentences copied from them) or ``"alce"`` (ALCE's instruction and
    one demonstration, for comparability; reads ALCE's prompt file from the benchmark data).

    ``cite``: ``"posthoc"`` replaces the generator's citations with the smallest set of given
    passages that the *attribution judge* says entails each statement (``rag.citing.attribution``);
    ``"model"`` keeps the generator's own. ``hide_unsupported`` and ``quote_fallback`` are the
    finishing policy (``rag.finish``). The attribution judge is by default a different model from
    the evaluation judge, so that the system does not grade itself.
    """

    k: int = 5
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    prompt: str = "evidence"
    cite: str = "posthoc"
    hide_unsupported: bool = True
    quote_fallback: bool = True
    attribution_judge: str = DEFAULT_ATTRIBUTION_JUDGE
    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.k <= MAX_K:
            raise RagError(f"k must be between 1 and {MAX_K} passages, got {self.k}")
        if self.prompt not in PROMPT_STYLES:
            raise RagError(f"unknown prompt {self.prompt!r}; choose one of {', '.join(PROMPT_STYLES)}")
        if self.cite not in CITE_MODES:
            raise RagError(f"unknown citation mode {self.cite!r}; choose one of {', '.join(CITE_MODES)}")

    @property
    def needs_attribution_judge(self) -> bool:
        """Whether answering asks the attribution judge (post-hoc citing or hiding)."""
        return self.cite == "posthoc" or self.hide_unsupported

    @property
    def finish_policy(self) -> FinishPolicy:
        """What the finishing stage does with a draft (``rag.finish``)."""
        return FinishPolicy(
            posthoc=self.cite == "posthoc",
            hide_unsupported=self.hide_unsupported,
            quote_fallback=self.quote_fallback,
            quote_words=self.evidence.quote_words,
            duplicate_overlap=self.evidence.duplicate_overlap,
        )

    def to_dict(self) -> dict[str, Any]:
        """Every setting as plain JSON types (tuples become lists); :meth:`from_dict` reads it back."""
        return _jsonable(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineConfig:
        """The config saved by :meth:`to_dict`; a missing field takes its default, an unknown one
        is an error (it would change answers in a way this version cannot reproduce). Settings this
        version no longer has are accepted only at the value it behaves as (:data:`RETIRED`)."""
        values: dict[str, Any] = {}
        for key, value in _without_retired(data, RETIRED, "").items():
            sub = _NESTED.get(key)
            if sub is None:
                values[key] = value
                continue
            if not isinstance(value, Mapping):
                raise RagError(f"the {key} settings must be an object, got {value!r}")
            inner = _without_retired(value, RETIRED.get(key, {}), f"{key}.")
            _check_known(sub, inner, f"{key} ")
            values[key] = sub(**{k: tuple(v) if isinstance(v, list) else v for k, v in inner.items()})
        _check_known(cls, values, "pipeline ")
        try:
            return cls(**values)
        except TypeError as exc:  # a wrong-typed value that a comparison in a check tripped on
            raise RagError(f"a pipeline setting has the wrong type: {exc}") from exc

    def with_settings(self, settings: Sequence[str]) -> PipelineConfig:
        """This config with ``key=value`` settings applied (``rag eval --set``): ``key`` is a field
        (``k``, ``prompt``) or a nested one (``retrieval.fusion``, ``evidence.reader``); the value is
        read as the field's type (``true``/``false``, a number, comma-separated for a pair). An
        unknown key or a value of the wrong type is one :class:`RagError` line.

        >>> PipelineConfig().with_settings(["k=8", "retrieval.fusion=weighted", "evidence.reader=false"]).k
        8
        """
        data = self.to_dict()
        for item in settings:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise RagError(f"--set takes key=value, got {item!r}")
            *parents, name = key.split(".")
            where = data
            for part in parents:
                if not isinstance(where.get(part), dict):
                    raise RagError(f"unknown setting {key!r}; settings: {', '.join(setting_names())}")
                where = where[part]
            if name not in where or isinstance(where[name], dict):
                raise RagError(f"unknown setting {key!r}; settings: {', '.join(setting_names())}")
            where[name] = _parse_value(key, text.strip(), where[name])
        return PipelineConfig.from_dict(data)


#: Settings this version no longer has, and the value it behaves as: a saved run that used another
#: value cannot be reproduced and is refused.
RETIRED: dict[str, Any] = {
    "constrain_citations": False,
    "samples": 1,
    "sample_temperature": None,
    "evidence": {"scorer": "learned", "keep_ratio": None, "rank_weight": None},
}
_NESTED: dict[str, type] = {
    "retrieval": RetrievalConfig,
    "generation": GenerationConfig,
    "attribution": AttributionConfig,
    "evidence": EvidenceConfig,
}


def _without_retired(data: Mapping[str, Any], retired: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if key in retired and not isinstance(retired[key], Mapping):
            if retired[key] is not None and value != retired[key]:
                raise RagError(
                    f"the setting {prefix}{key}={value!r} is no longer supported (this version behaves as "
                    f"{retired[key]!r}): use the version of rag that made this run"
                )
            continue
        out[key] = value
    return out


def _check_known(cls: type, values: Mapping[str, Any], what: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RagError(f"unknown {what}setting(s) {', '.join(unknown)}; this version of rag has {sorted(known)}")


def setting_names() -> list[str]:
    """Every key :meth:`PipelineConfig.with_settings` accepts (``k``, ``retrieval.fusion``, …)."""
    out = []
    for f in fields(PipelineConfig):
        sub = _NESTED.get(f.name)
        out.extend([f"{f.name}.{g.name}" for g in fields(sub)] if sub else [f.name])
    return out


def _parse_value(key: str, text: str, current: Any) -> Any:
    """``text`` read as the type of the setting's ``current`` value."""
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes", "on")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, list):
            kinds = [type(x) for x in current] or [str]
            parts = [p.strip() for p in text.split(",") if p.strip()]
            return [kinds[min(i, len(kinds) - 1)](p) for i, p in enumerate(parts)]
        if current is None:
            return None if text.lower() in ("", "none", "null") else text
        return text
    except ValueError:
        kind = type(current).__name__
        raise RagError(f"--set {key}={text!r}: expected a {kind}") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
