"""``LLMJudge``: a yes/no entailment verdict from a local GGUF model (llama.cpp), read from the
next-token probabilities."""

from __future__ import annotations

import ctypes
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import kvcache
from rag.device import cpu_threads
from rag.errors import MissingFileError, RagError
from rag.judges.base import Judge
from rag.llama import open_llama
from rag.models import resolve_generator

if TYPE_CHECKING:
    from llama_cpp.llama_types import ChatCompletionRequestMessage

logger = logging.getLogger(__name__)

# Chosen on the dev split of tests/data/judge_pairs.jsonl and checked on its test split
# (experiments/judge-agreement/README.md): 0.7 kept recall 1.000 and raised precision from 0.828 to 0.923.
DEFAULT_THRESHOLD = 0.7
DEFAULT_LLM_JUDGE_MODEL = "qwen2.5-1.5b"
# Per-model thresholds, each chosen by accuracy on the dev split of the labelled pairs. The 0.5B's
# P(yes) is compressed (entailed pairs mostly 0.45-0.6): 0.5 gives dev 0.955 / test 0.886
# accuracy, 0.7 only 0.568 / 0.552 (experiments/citation-ablation/README.md).
MODEL_THRESHOLDS = {"qwen2.5-1.5b": DEFAULT_THRESHOLD, "qwen2.5-0.5b": 0.5}


# Prompt wordings by version; the version is part of the cache key ("prompt=v1"), so a new wording
# gets its own verdicts. experiments/judge-agreement/README.md has the scores on the labelled pairs.
PROMPTS: dict[str, tuple[str, str]] = {
    "v1": (
        "You are a careful fact checker. Answer with a single word: yes or no.",
        "Decide whether the passage entails the claim: answer yes only if everything the claim states "
        "is stated in or directly follows from the passage; answer no if any part of the claim is "
        "missing from the passage or contradicts it.\n\nPassage:\n{premise}\n\nClaim: {hypothesis}\n\n"
        "Does the passage entail the claim? Answer yes or no.",
    ),
}
DEFAULT_PROMPT = "v1"
_YES = ("yes", "Yes", "YES", " yes", " Yes", " YES")
_NO = ("no", "No", "NO", " no", " No", " NO")
_PREMISE_MARKER = "\x00PREMISE\x00"
_CLAIM_MARKER = "\x00CLAIM\x00"
_TRUNCATION_NOTE = " [...]"
_ANSWER_MARGIN = 8  # tokens kept free after the prompt
# Where a premise's pieces end: before each line that starts a passage ("Title: ...", as ALCE and
# the attribution join them), and at its end.
_PASSAGE_START_RE = re.compile(r"\n(?=Title: )")
#: Premise pieces kept in memory per judge (a question's passages alone and in pairs).
DEFAULT_STATE_SLOTS = 16


def checked_settings(model: str, threshold: float | None, prompt: str) -> float:
    """An LLM judge's threshold (the model's calibrated one when ``None``), after checking it and
    the prompt version; :class:`RagError` when either is invalid."""
    if prompt not in PROMPTS:
        raise RagError(f"unknown judge prompt {prompt!r}: use one of {', '.join(PROMPTS)}")
    if threshold is None:
        threshold = MODEL_THRESHOLDS.get(model, DEFAULT_THRESHOLD)
    if not 0.0 < threshold < 1.0:
        raise RagError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    return threshold


def yes_share(logits: Any, yes: Sequence[int], no: Sequence[int]) -> float:
    """P(yes) / (P(yes) + P(no)) from next-token logits, each side summing its token ids."""
    top = float(logits.max())
    y = sum(math.exp(float(logits[i]) - top) for i in yes)
    n = sum(math.exp(float(logits[i]) - top) for i in no)
    return y / (y + n) if y + n > 0.0 else 0.0


def _resolve_gguf(model: str) -> str:
    """A GGUF file path for ``model``: an existing file, else the registry's short name."""
    path = Path(model).expanduser()
    if path.is_file():
        return str(path)
    if path.suffix == ".gguf":
        raise MissingFileError(f"GGUF file {model!r} not found: pass an existing .gguf path or a model name")
    return str(resolve_generator(model))


class LLMJudge(Judge):
    """A yes/no judge on a local GGUF model (llama.cpp), read from token probabilities.

    The prompt (the model's own chat template) gives the passage and the claim and asks whether the
    passage entails the claim. ``probability`` is P(yes) / (P(yes) + P(no)) over the first answer
    token, each side summing its case and leading-space variants ("yes", " Yes", "YES", ...);
    ``entails`` is ``probability >= threshold`` (by default the model's calibrated threshold in
    ``MODEL_THRESHOLDS``, else ``DEFAULT_THRESHOLD``). Nothing is sampled, so verdicts are deterministic
    (the fixed instruction prefix is evaluated once and reused, so every pair takes the same path).

    Every prompt is evaluated in the same pieces: the instruction (once per model load), one
    piece per passage of the premise (it is cut before each line starting "Title: ", the way
    passages are joined), and the claim with the rest. After each passage piece the state of the
    model (its KV cache) is kept, up to ``state_slots`` of them, least recently used dropped: a
    premise that starts with passages already read (the same passage for another statement, a
    pair of passages after the first alone, all passages after some) only evaluates what follows.
    The pieces depend only on the premise, never on which pair came before, so a verdict is the
    same in any order and with or without kept states (tested); ``state_slots=0`` keeps only what
    the context holds.

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
        state_slots: int = DEFAULT_STATE_SLOTS,
    ) -> None:
        if not model:
            raise RagError("LLMJudge needs a model name or a .gguf path, e.g. 'qwen2.5-1.5b'")
        threshold = checked_settings(model, threshold, prompt)
        if n_ctx < 256:
            raise RagError(f"n_ctx must be at least 256 tokens, got {n_ctx}")
        if state_slots < 0:
            raise RagError(f"state_slots must be 0 or more, got {state_slots}")
        self.model = model
        self.state_slots = state_slots
        self.n_ctx = n_ctx
        self.threshold = threshold
        self.prompt = prompt
        label = Path(model).name if Path(model).suffix == ".gguf" else model
        self.name = f"llm:{label}"
        self.official = False
        self._llama: Any = None
        self._path = ""
        self._formatter: Any = None
        self._prefix: list[int] = []
        self._head = ""  # the prompt's text before the premise
        # premise pieces: (tokens up to a piece's end, the piece ends) -> the sequence's saved
        # state (a ctypes buffer and its length)
        self._states: OrderedDict[tuple[tuple[int, ...], tuple[int, ...]], tuple[Any, int]] = OrderedDict()
        self._live: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()  # pieces the context holds now
        self.evaluated_tokens = 0  # prompt tokens evaluated so far (how much caching saved)
        self._yes_ids: list[int] = []
        self._no_ids: list[int] = []

    @property
    def cache_id(self) -> str:
        return f"{self.name}|prompt={self.prompt}|threshold={self.threshold}|n_ctx={self.n_ctx}"

    # -- loading -------------------------------------------------------------------------------
    def _load(self) -> Any:
        if self._llama is not None:
            return self._llama
        path = _resolve_gguf(self.model)
        self._path = path
        logger.info("loading judge model %s", path)
        self._llama = open_llama(
            path,
            n_ctx=self.n_ctx,
            logits_all=False,
            seed=0,
            verbose=False,
            n_threads=min(cpu_threads(), 8),
        )
        self._yes_ids = self._first_token_ids(_YES)
        self._no_ids = [t for t in self._first_token_ids(_NO) if t not in self._yes_ids]
        if not self._yes_ids or not self._no_ids:
            raise RagError(f"model {self.model!r} has no usable yes/no tokens for a judge")
        # Only the part before the premise is a shared prefix.
        full = self._render(_PREMISE_MARKER, "")
        self._head = full.split(_PREMISE_MARKER)[0]
        self._prefix = self._tokens(self._head)
        return self._llama

    def close(self) -> None:
        """Free the llama.cpp model (it loads again on the next verdict)."""
        if self._llama is not None:
            self._llama.close()
            self._llama = None
            self._formatter = None
            self._states.clear()
            self._live.clear()

    def _first_token_ids(self, words: Sequence[str]) -> list[int]:
        ids: list[int] = []
        for w in words:
            toks = self._llama.tokenize(w.encode("utf-8"), add_bos=False, special=False)
            if toks and toks[0] not in ids:
                ids.append(toks[0])
        return ids

    def _chat_formatter(self) -> Any:
        """The GGUF's chat template, compiled once (compiling it took longer than a short claim's
        evaluation); None when the file has no template."""
        if self._formatter is None:
            template = self._llama.metadata.get("tokenizer.chat_template")
            if not template:
                return None
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = self._llama._model
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=model.token_get_text(model.token_eos()),
                bos_token=model.token_get_text(model.token_bos()),
                add_generation_prompt=True,
            )
        return self._formatter

    def _render(self, premise: str, hypothesis: str) -> str:
        """The full prompt text in the model's chat template, ending where the answer starts."""
        system, template_text = PROMPTS[self.prompt]
        user = template_text.format(premise=premise, hypothesis=hypothesis)
        messages: list[ChatCompletionRequestMessage] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        formatter = self._chat_formatter()
        if formatter is not None:
            return str(formatter(messages=messages).prompt)
        # No template in the file: a plain ChatML layout.
        return (
            "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
            + "<|im_start|>assistant\n"
        )

    def _tokens(self, text: str) -> list[int]:
        return list(self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def _piece_ends(self, premise: str, tokens: list[int]) -> list[int]:
        """Where the premise's pieces end in ``tokens`` (the prompt of ``premise`` and a claim):
        for each passage of the premise, the number of prompt tokens up to its end less the last
        one (which may merge with what follows), kept when they are a prefix of ``tokens``."""
        ends: list[int] = []
        last = len(self._prefix)
        cuts = [m.start() for m in _PASSAGE_START_RE.finditer(premise)] + [len(premise)]
        for cut in cuts:
            upto = self._tokens(self._head + premise[:cut])[:-1]
            if last < len(upto) < len(tokens) and tokens[: len(upto)] == upto:
                ends.append(len(upto))
                last = len(upto)
        return ends

    def _prompt_tokens(self, premise: str, hypothesis: str) -> tuple[list[int], list[int]]:
        """The prompt's tokens and where its premise pieces end (:meth:`_piece_ends`)."""
        tokens = self._tokens(self._render(premise, hypothesis))
        budget = self.n_ctx - _ANSWER_MARGIN
        if len(tokens) <= budget:
            return tokens, self._piece_ends(premise, tokens)
        premise_tokens = self._llama.tokenize(premise.encode("utf-8"), add_bos=False, special=False)
        keep = len(premise_tokens) - (len(tokens) - budget) - 8
        if keep <= 0:
            raise RagError(
                f"claim too long for the judge's context ({len(tokens)} tokens > n_ctx={self.n_ctx}): raise n_ctx"
            )
        cut = self._llama.detokenize(premise_tokens[:keep]).decode("utf-8", errors="ignore")
        logger.warning(
            "judge premise truncated from %d to %d tokens to fit n_ctx=%d", len(premise_tokens), keep, self.n_ctx
        )
        return self._tokens(self._render(cut + _TRUNCATION_NOTE, hypothesis))[:budget], []

    # -- scoring -------------------------------------------------------------------------------
    def _eval(self, tokens: list[int]) -> None:
        self._llama.eval(tokens)
        self.evaluated_tokens += len(tokens)

    def _to_prefix(self) -> None:
        """Leave exactly the instruction prefix evaluated (evaluating it if it is not, or after a
        load restoring it from the state a process before saved: ``rag.kvcache``)."""
        llama, prefix = self._llama, self._prefix
        if not (llama.n_tokens >= len(prefix) and list(llama.input_ids[: len(prefix)]) == prefix):
            if kvcache.prime(llama, self._path, prefix) == "evaluated":
                self.evaluated_tokens += len(prefix)
        llama.n_tokens = len(prefix)  # drop what followed; eval() clears those KV cells

    def _save_piece(self, key: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
        """Keep the context's sequence state (the KV cache up to a piece's end) under ``key``."""
        import llama_cpp

        if self.state_slots == 0:
            return
        ctx = self._llama._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        n = int(llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0))
        if 0 < n <= size:
            self._states[key] = (buf, n)  # llama.cpp's buffer as it is: no second copy
            self._states.move_to_end(key)
            while len(self._states) > self.state_slots:
                self._states.popitem(last=False)

    def _restore_piece(self, key: tuple[tuple[int, ...], tuple[int, ...]]) -> bool:
        """Put a kept state back in the context; False when llama.cpp refuses it."""
        import llama_cpp

        buf, n = self._states[key]
        self._states.move_to_end(key)
        if llama_cpp.llama_state_seq_set_data(self._llama._ctx.ctx, buf, n, 0) != n:
            del self._states[key]
            self._llama.reset()
            return False
        tokens = list(key[0])
        self._llama.input_ids[: len(tokens)] = tokens
        self._llama.n_tokens = len(tokens)
        return True

    def _next_token_logits(self, tokens: list[int], ends: Sequence[int] = ()) -> Any:
        import numpy as np

        llama = self._llama
        prefix = self._prefix
        if len(tokens) > len(prefix) and tokens[: len(prefix)] == prefix:
            # pieces: the instruction, each passage of the premise, the rest; resume after the
            # last piece the context holds or a state was kept for
            cuts = [len(prefix), *ends]
            keys = [(tuple(tokens[:c]), tuple(cuts[1 : i + 1])) for i, c in enumerate(cuts)]
            start = 0
            for i in range(len(cuts) - 1, 0, -1):
                if keys[i] in self._live and llama.n_tokens >= cuts[i]:
                    llama.n_tokens = cuts[i]  # eval() clears the KV cells after it
                    start = i
                    break
                if keys[i] in self._states and self._restore_piece(keys[i]):
                    start = i
                    break
            if start == 0:
                self._to_prefix()
            for i in range(start + 1, len(cuts)):
                self._eval(tokens[cuts[i - 1] : cuts[i]])
                self._save_piece(keys[i])
            self._live = set(keys[1:])
            self._eval(tokens[cuts[-1] :])
        else:
            llama.reset()
            self._live = set()
            self._eval(tokens)
        # With logits_all=False llama-cpp-python (0.3.x) no longer copies logits into
        # ``llama.scores``; read the last token's row from the context directly.
        logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
        return np.array(logits, dtype=np.float64)

    def probability(self, premise: str, hypothesis: str) -> float:
        """P(yes) / (P(yes) + P(no)) for the first answer token."""
        self._load()
        logits = self._next_token_logits(*self._prompt_tokens(premise, hypothesis))
        return yes_share(logits, self._yes_ids, self._no_ids)

    def entails_batch(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """Verdicts, one pair at a time (llama.cpp evaluates one sequence here).

        A hypothesis with no words (e.g. an answer that was only "[1]") claims nothing and is not
        entailed: the model is not asked, since small models tend to say "yes" to it.
        """
        return [bool(h.strip()) and self.probability(p, h) >= self.threshold for p, h in pairs]
