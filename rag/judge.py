"""Entailment judges: does a premise (cited passages) entail a hypothesis (a statement)?

Implementations, selected by name through :func:`load_judge`:

- ``LLMJudge`` -- a local GGUF model through llama.cpp, asked for a yes/no verdict that is read
  from the next-token probabilities (the default here: no NLI model can be installed offline);
- ``NLIJudge`` -- a Hugging Face NLI cross-encoder by id or path;
- ``TrueJudge`` -- ``google/t5_xxl_true_nli_mixture``, ALCE's own judge (the only "official" one);
- ``CachedJudge`` -- wraps any judge and keeps its verdicts on disk (append-only JSONL).

Every judge has a ``name`` that goes into every report. Heavy libraries load lazily.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.paths import cache_dir as _default_cache_dir

logger = logging.getLogger(__name__)

DEFAULT_JUDGE = "llm"
# Chosen on the dev split of tests/data/judge_pairs.jsonl and checked on its test split
# (eval/judge/README.md): 0.7 kept recall 1.000 and raised precision from 0.828 to 0.923.
DEFAULT_THRESHOLD = 0.7
DEFAULT_LLM_JUDGE_MODEL = "qwen2.5-1.5b"
# Per-model thresholds, each chosen by accuracy on the dev split of the labelled pairs. The 0.5B's
# P(yes) is compressed (entailed pairs mostly 0.45-0.6): 0.5 gives dev 0.955 / test 0.886
# accuracy, 0.7 only 0.568 / 0.552 (eval/citing/README.md).
MODEL_THRESHOLDS = {"qwen2.5-1.5b": DEFAULT_THRESHOLD, "qwen2.5-0.5b": 0.5}
TRUE_MODEL = "google/t5_xxl_true_nli_mixture"
JUDGE_FORMS = (
    '"llm"',
    '"llm:<model name or GGUF path>"',
    '"nli:<Hugging Face id or path>"',
    '"true"',
    '"true:<Hugging Face id or path>"',
)

Pair = tuple[str, str]


class Judge(ABC):
    """An entailment judge: ``entails(premise, hypothesis) -> bool``, batched.

    ``name`` identifies the judge in reports and cache keys; ``official`` is True only for TRUE,
    the judge ALCE's published numbers use.
    """

    name: str = "judge"
    official: bool = False

    @property
    def cache_id(self) -> str:
        """What the disk cache keys verdicts by, besides the texts (the name, plus any setting
        that changes verdicts, e.g. an LLM judge's prompt version and threshold)."""
        return self.name

    @abstractmethod
    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Verdicts for ``(premise, hypothesis)`` pairs, in order."""

    def entails(self, premise: str, hypothesis: str) -> bool:
        """True when ``premise`` entails ``hypothesis``."""
        return self.entails_batch([(premise, hypothesis)])[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


# --------------------------------------------------------------------------------------------
# LLM judge (llama.cpp)

# Prompt wordings by version; the version is part of the cache key. "v1" is the default (see
# eval/judge/README.md for the scores of each on the dev split of the labelled pairs).
PROMPTS: dict[str, tuple[str, str]] = {
    "v1": (
        "You are a careful fact checker. Answer with a single word: yes or no.",
        "Decide whether the passage entails the claim: answer yes only if everything the claim states "
        "is stated in or directly follows from the passage; answer no if any part of the claim is "
        "missing from the passage or contradicts it.\n\nPassage:\n{premise}\n\nClaim: {hypothesis}\n\n"
        "Does the passage entail the claim? Answer yes or no.",
    ),
    "v2": (
        "You are a natural language inference system. Reply with yes or no only.",
        "Premise:\n{premise}\n\nHypothesis: {hypothesis}\n\nIs every detail of the hypothesis "
        "(names, numbers, dates, titles, roles) supported by the premise alone? A hypothesis that adds "
        "anything the premise does not say is not supported. Answer yes or no.",
    ),
}
DEFAULT_PROMPT = "v1"
_YES = ("yes", "Yes", "YES", " yes", " Yes", " YES")
_NO = ("no", "No", "NO", " no", " No", " NO")
_PREMISE_MARKER = "\x00PREMISE\x00"
_TRUNCATION_NOTE = " [...]"
_ANSWER_MARGIN = 8  # tokens kept free after the prompt


def _resolve_gguf(model: str) -> str:
    """A GGUF file path for ``model``: an existing file, else the registry's short name."""
    path = Path(model).expanduser()
    if path.is_file():
        return str(path)
    if path.suffix == ".gguf":
        raise FileNotFoundError(f"GGUF file {model!r} not found: pass an existing .gguf path or a model name")
    try:
        from rag.models import resolve_generator
    except ImportError as exc:  # the registry is another module; say what is missing
        raise ValueError(
            f"cannot resolve model name {model!r}: rag.models is unavailable ({exc}); pass a .gguf path"
        ) from exc
    return str(resolve_generator(model))


class LLMJudge(Judge):
    """A yes/no judge on a local GGUF model (llama.cpp), read from token probabilities.

    The prompt (the model's own chat template) gives the passage and the claim and asks whether the
    passage entails the claim. ``probability`` is P(yes) / (P(yes) + P(no)) over the first answer
    token, each side summing its case and leading-space variants ("yes", " Yes", "YES", ...);
    ``entails`` is ``probability >= threshold`` (by default the model's calibrated threshold in
    ``MODEL_THRESHOLDS``, else ``DEFAULT_THRESHOLD``). Nothing is sampled, so verdicts are deterministic
    (the fixed instruction prefix is evaluated once and reused, so every pair takes the same path).

    A premise too long for ``n_ctx`` is truncated (its end is cut, marked "[...]", and a warning
    is logged); the claim is never cut. The model loads on first use.
    """

    def __init__(
        self,
        model: str = DEFAULT_LLM_JUDGE_MODEL,
        *,
        n_ctx: int = 4096,
        threshold: float | None = None,
        prompt: str = DEFAULT_PROMPT,
    ) -> None:
        if prompt not in PROMPTS:
            raise ValueError(f"unknown judge prompt {prompt!r}: use one of {', '.join(PROMPTS)}")
        if not model:
            raise ValueError("LLMJudge needs a model name or a .gguf path, e.g. 'qwen2.5-1.5b'")
        if threshold is None:
            threshold = MODEL_THRESHOLDS.get(model, DEFAULT_THRESHOLD)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
        if n_ctx < 256:
            raise ValueError(f"n_ctx must be at least 256 tokens, got {n_ctx}")
        self.model = model
        self.n_ctx = n_ctx
        self.threshold = threshold
        self.prompt = prompt
        label = Path(model).name if Path(model).suffix == ".gguf" else model
        self.name = f"llm:{label}"
        self.official = False
        self._llama: Any = None
        self._prefix: list[int] = []
        self._yes_ids: list[int] = []
        self._no_ids: list[int] = []

    @property
    def cache_id(self) -> str:
        return f"{self.name}|prompt={self.prompt}|threshold={self.threshold}|n_ctx={self.n_ctx}"

    # -- loading -------------------------------------------------------------------------------
    def _load(self) -> Any:
        if self._llama is not None:
            return self._llama
        from llama_cpp import Llama

        path = _resolve_gguf(self.model)
        logger.info("loading judge model %s", path)
        self._llama = Llama(
            model_path=path,
            n_ctx=self.n_ctx,
            logits_all=False,
            seed=0,
            verbose=False,
            n_threads=max(1, min(os.cpu_count() or 1, 8)),
        )
        self._yes_ids = self._first_token_ids(_YES)
        self._no_ids = [t for t in self._first_token_ids(_NO) if t not in self._yes_ids]
        if not self._yes_ids or not self._no_ids:
            raise ValueError(f"model {self.model!r} has no usable yes/no tokens for a judge")
        # Only the part before the premise is a shared prefix.
        full = self._render(_PREMISE_MARKER, "")
        head = full.split(_PREMISE_MARKER)[0]
        self._prefix = self._tokens(head)
        return self._llama

    def _first_token_ids(self, words: Sequence[str]) -> list[int]:
        ids: list[int] = []
        for w in words:
            toks = self._llama.tokenize(w.encode("utf-8"), add_bos=False, special=False)
            if toks and toks[0] not in ids:
                ids.append(toks[0])
        return ids

    def _render(self, premise: str, hypothesis: str) -> str:
        """The full prompt text in the model's chat template, ending where the answer starts."""
        system, template_text = PROMPTS[self.prompt]
        user = template_text.format(premise=premise, hypothesis=hypothesis)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        template = self._llama.metadata.get("tokenizer.chat_template")
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = self._llama._model
            formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=model.token_get_text(model.token_eos()),
                bos_token=model.token_get_text(model.token_bos()),
                add_generation_prompt=True,
            )
            return formatter(messages=messages).prompt
        # No template in the file: a plain ChatML layout.
        return (
            "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
            + "<|im_start|>assistant\n"
        )

    def _tokens(self, text: str) -> list[int]:
        return list(self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def _prompt_tokens(self, premise: str, hypothesis: str) -> list[int]:
        tokens = self._tokens(self._render(premise, hypothesis))
        budget = self.n_ctx - _ANSWER_MARGIN
        if len(tokens) <= budget:
            return tokens
        premise_tokens = self._llama.tokenize(premise.encode("utf-8"), add_bos=False, special=False)
        keep = len(premise_tokens) - (len(tokens) - budget) - 8
        if keep <= 0:
            raise ValueError(
                f"claim too long for the judge's context ({len(tokens)} tokens > n_ctx={self.n_ctx}): raise n_ctx"
            )
        cut = self._llama.detokenize(premise_tokens[:keep]).decode("utf-8", errors="ignore")
        logger.warning(
            "judge premise truncated from %d to %d tokens to fit n_ctx=%d", len(premise_tokens), keep, self.n_ctx
        )
        return self._tokens(self._render(cut + _TRUNCATION_NOTE, hypothesis))[:budget]

    # -- scoring -------------------------------------------------------------------------------
    def _next_token_logits(self, tokens: list[int]) -> Any:
        import numpy as np

        llama = self._llama
        prefix = self._prefix
        shares_prefix = len(tokens) > len(prefix) and tokens[: len(prefix)] == prefix
        if shares_prefix:
            cached = llama.n_tokens >= len(prefix) and list(llama.input_ids[: len(prefix)]) == prefix
            if not cached:
                llama.reset()
                llama.eval(prefix)
            llama.n_tokens = len(prefix)  # drop the previous pair; eval() clears its KV cells
            llama.eval(tokens[len(prefix) :])
        else:
            llama.reset()
            llama.eval(tokens)
        # With logits_all=False llama-cpp-python (0.3.x) no longer copies logits into
        # ``llama.scores``; read the last token's row from the context directly.
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
        return np.array(logits, dtype=np.float64)

    def probability(self, premise: str, hypothesis: str) -> float:
        """P(yes) / (P(yes) + P(no)) for the first answer token."""
        self._load()
        logits = self._next_token_logits(self._prompt_tokens(premise, hypothesis))
        top = float(logits.max())
        yes = sum(math.exp(float(logits[i]) - top) for i in self._yes_ids)
        no = sum(math.exp(float(logits[i]) - top) for i in self._no_ids)
        if yes + no == 0.0:
            return 0.0
        return yes / (yes + no)

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Verdicts, one pair at a time (llama.cpp evaluates one sequence here).

        A hypothesis with no words (e.g. an answer that was only "[1]") claims nothing and is not
        entailed: the model is not asked, since small models tend to say "yes" to it.
        """
        return [bool(h.strip()) and self.probability(p, h) >= self.threshold for p, h in pairs]


# --------------------------------------------------------------------------------------------
# Disk cache


def __getattr__(name: str) -> Any:
    # The Hugging Face judges live in rag.judge_hf (they need torch/transformers); they stay
    # reachable from here without importing that module at import time.
    if name in ("NLIJudge", "TrueJudge", "_entailment_index"):
        from rag import judge_hf

        return getattr(judge_hf, name)
    raise AttributeError(f"module 'rag.judge' has no attribute {name!r}")


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
    return keep.strip("_")[:80] or "judge"


class CachedJudge(Judge):
    """Wraps a judge; verdicts are kept on disk and served from there on later calls.

    One append-only JSONL file per judge (``<cache_dir>/<judge name>.jsonl``, default directory
    ``rag.paths.cache_dir() / "judge"``), one ``{"key", "verdict"}`` record a line, the key being
    the sha256 of (the judge's ``cache_id``, premise, hypothesis). A torn last line (an interrupted
    write) is skipped with a warning and the next write starts on a fresh line. No pickle.
    """

    def __init__(self, inner: Judge, cache_dir: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.official = inner.official
        self.dir = Path(cache_dir) if cache_dir is not None else _default_cache_dir() / "judge"
        self.path = self.dir / f"{_slug(inner.name)}.jsonl"
        self._verdicts: dict[str, bool] | None = None
        self._needs_newline = False
        self.hits = 0
        self.misses = 0

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    def key(self, premise: str, hypothesis: str) -> str:
        """The cache key of one pair."""
        blob = json.dumps([self.inner.cache_id, premise, hypothesis], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _read(self) -> dict[str, bool]:
        if self._verdicts is not None:
            return self._verdicts
        verdicts: dict[str, bool] = {}
        if self.path.is_file():
            data = self.path.read_bytes()
            self._needs_newline = bool(data) and not data.endswith(b"\n")
            for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    verdicts[str(rec["key"])] = bool(rec["verdict"])
                except (ValueError, KeyError, TypeError):
                    logger.warning("skipping unreadable line %d of judge cache %s", n, self.path)
        self._verdicts = verdicts
        return verdicts

    def _append(self, records: list[tuple[str, bool]]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps({"key": k, "verdict": v}) + "\n" for k, v in records)
        if self._needs_newline:
            lines = "\n" + lines
            self._needs_newline = False
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Cached verdicts where known; the inner judge answers the rest (in one batch)."""
        verdicts = self._read()
        keys = [self.key(p, h) for p, h in pairs]
        todo = [i for i, k in enumerate(keys) if k not in verdicts]
        todo_unique = list(dict.fromkeys(keys[i] for i in todo))
        self.hits += len(pairs) - len(todo)
        self.misses += len(todo)
        if todo_unique:
            first = {keys[i]: i for i in reversed(todo)}
            fresh = self.inner.entails_batch([pairs[first[k]] for k in todo_unique])
            if len(fresh) != len(todo_unique):
                raise ValueError(
                    f"judge {self.inner.name!r} returned {len(fresh)} verdicts for {len(todo_unique)} pairs"
                )
            new = [(k, bool(v)) for k, v in zip(todo_unique, fresh, strict=True)]
            verdicts.update(new)
            self._append(new)
        return [verdicts[k] for k in keys]


# --------------------------------------------------------------------------------------------


def canonical_judge(name: str) -> str:
    """A judge name in one spelling: ``llm`` becomes ``llm:qwen2.5-1.5b``, model aliases become
    the registry's short name, ``true`` becomes ``true:google/t5_xxl_true_nli_mixture``."""
    kind, _, arg = (name or "").strip().partition(":")
    kind, arg = kind.strip().lower(), arg.strip()
    if kind == "llm":
        arg = arg or DEFAULT_LLM_JUDGE_MODEL
        from rag.models import get_spec

        spec = get_spec(arg)
        return f"llm:{spec.name if spec else arg}"
    if kind == "true":
        return f"true:{arg or TRUE_MODEL}"
    return f"{kind}:{arg}" if arg else kind


def same_judge(a: str, b: str) -> bool:
    """Whether two judge names denote the same judge (e.g. ``llm`` and ``llm:qwen2.5-1.5b``)."""
    return canonical_judge(a) == canonical_judge(b)


def load_judge(name: str = DEFAULT_JUDGE, *, cache: bool = True, cache_dir: Path | None = None) -> Judge:
    """A judge by name: ``llm``, ``llm:<model>``, ``nli:<hf id or path>``, ``true``, ``true:<id>``.

    Nothing loads until the first verdict. With ``cache`` the judge is wrapped in
    :class:`CachedJudge`. An unknown name raises ``ValueError`` listing the accepted forms.
    """
    kind, sep, arg = (name or "").strip().partition(":")
    kind = kind.strip().lower()
    arg = arg.strip()
    judge: Judge
    if sep and not arg:
        raise ValueError(f"judge {name!r} names no model after ':'; use one of {', '.join(JUDGE_FORMS)}")
    if kind == "llm":
        judge = LLMJudge(arg or DEFAULT_LLM_JUDGE_MODEL)
    elif kind == "nli" and arg:
        from rag.judge_hf import NLIJudge

        judge = NLIJudge(arg)
    elif kind == "true":
        from rag.judge_hf import TrueJudge

        judge = TrueJudge(arg or TRUE_MODEL)
    else:
        raise ValueError(f"unknown judge {name!r}: use one of {', '.join(JUDGE_FORMS)}")
    return CachedJudge(judge, cache_dir) if cache else judge
