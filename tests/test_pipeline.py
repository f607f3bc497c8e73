"""rag.pipeline: Pipeline.ask and closed_book with a scripted generator and scripted judges (no
model), and PipelineConfig's JSON round trip. Every expected value below is worked out by hand
from rag.citing.attribution's rules (quote check, candidate ranking, smallest supporting set,
renumbering)."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING

import pytest

import rag.pipeline as pipeline_module
from rag.citing.attribution import AttributionConfig
from rag.citing.evidence import EvidenceConfig
from rag.errors import RagError
from rag.generation import GenerationConfig
from rag.generation.prompts import closed_book_messages, rag_messages
from rag.pipeline import Pipeline, PipelineConfig
from rag.retrieval import RetrievalConfig
from rag.types import Passage

if TYPE_CHECKING:
    from conftest import FakeEmbedder, FakeIndex, RuleJudge, ScriptedGenerator

BEES = Passage("bees", "Honeybees live in colonies with one queen.", "Bees")
TEA = Passage("tea", "Tea was first drunk in China, where legend credits the emperor Shennong.", "Tea")
COFFEE = Passage("coffee", "Coffee was first drunk in Yemen.", "Coffee")
PASSAGES = [BEES, TEA, COFFEE]

# A paraphrase of the tea passage (not a quote: "drinkers" and "lived" are in no passage), a word
# for word copy of the coffee passage, and a statement no passage supports.
PARAPHRASE = "The first tea drinkers lived in China."
COPY = "Coffee was first drunk in Yemen."
MOON = "The moon is made of cheese."
# The generator's own citations are all wrong.
ANSWER = (
    "The first tea drinkers lived in China [1]. Coffee was first drunk in Yemen [1]. The moon is made of cheese [3]."
)

# The attribution judge: the paraphrase is entailed by a premise holding the tea sentence; so is
# the copy by the coffee sentence (never asked: a quote is cited without the judge).
SUPPORT = {
    PARAPHRASE: [["Tea was first drunk in China"]],
    COPY: [["Coffee was first drunk in Yemen"]],
    "Tea was first drunk in China.": [["Tea was first drunk in China"]],
}

# The generator's own citations kept as they are, nothing hidden: no attribution judge needed.
MODEL_CITES = {"prompt": "default", "cite": "model", "hide_unsupported": False, "quote_fallback": False}


@pytest.fixture(autouse=True)
def no_real_embedder(monkeypatch: pytest.MonkeyPatch, fake_embedder: type[FakeEmbedder]) -> list[FakeEmbedder]:
    """Pipeline._embed builds rag.indexing.dense.Embedder when there is no index: here a fake one
    (every text the same unit vector, so word overlap alone ranks), recorded when made."""
    made: list[FakeEmbedder] = []

    def make(*args: object, **kwargs: object) -> FakeEmbedder:
        made.append(fake_embedder())
        return made[-1]

    monkeypatch.setattr(pipeline_module, "Embedder", make)
    return made


def _premise(p: Passage) -> str:
    return f"Title: {p.title}\n{p.text}"


# ---------------------------------------------------------------- passages given, model citations


def test_given_passages_are_used_as_they_are_without_retrieval(
    scripted_generator: type[ScriptedGenerator], fake_index: type[FakeIndex], rule_judge: type[RuleJudge]
) -> None:
    gen = scripted_generator(ANSWER)
    index = fake_index([Passage("other", "Some other text.")], [0], [0])
    judge = rule_judge(SUPPORT)
    pipe = Pipeline(gen, index, PipelineConfig(k=1, **MODEL_CITES), attribution_judge=judge)  # type: ignore[arg-type]
    answer = pipe.ask("  Where was tea first drunk?  ", passages=PASSAGES)
    # no search was made, and all three given passages were used although k is 1
    assert index.bm25.calls == [] and index.dense.calls == [] and index.embedder.batches == []
    assert [(sp.passage.id, sp.score, sp.rank) for sp in answer.passages] == [
        ("bees", 0.0, 1),
        ("tea", 0.0, 2),
        ("coffee", 0.0, 3),
    ]
    assert (answer.question, answer.generator) == ("Where was tea first drunk?", "scripted")
    # the prompt numbers the passages in the order given
    assert gen.messages == [rag_messages("Where was tea first drunk?", PASSAGES, style="default")]
    last = gen.messages[0][-1]["content"]
    assert "[1] Title: Bees\nHoneybees live in colonies with one queen." in last
    assert "[3] Title: Coffee\nCoffee was first drunk in Yemen." in last
    assert last.endswith("Question: Where was tea first drunk?")
    assert judge.asked == []  # cite="model" without hiding or samples asks no attribution judge


def test_model_citations_are_kept(scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]) -> None:
    judge = rule_judge(SUPPORT)
    answer = Pipeline(scripted_generator(ANSWER), None, PipelineConfig(**MODEL_CITES), attribution_judge=judge).ask(
        "Where was tea first drunk?", passages=PASSAGES
    )
    assert answer.text == ANSWER
    assert [st.text for st in answer.statements] == [PARAPHRASE, COPY, MOON]
    assert [st.citations for st in answer.statements] == [(1,), (1,), (3,)]
    assert [st.verdict for st in answer.statements] == [None, None, None]
    assert [sp.passage.id for sp in answer.passages] == ["bees", "tea", "coffee"]
    assert [(c.number, c.passage.id) for c in answer.citations] == [(1, "bees"), (3, "coffee")]
    assert answer.hidden == () and not answer.quoted_fallback
    assert (answer.samples, answer.chosen_sample) == (1, 0)
    assert set(answer.timings) == {"retrieval", "time_to_first_token", "generation", "total"}
    assert judge.asked == []


def test_retrieves_from_the_index_when_no_passages_are_given(
    scripted_generator: type[ScriptedGenerator], fake_index: type[FakeIndex]
) -> None:
    rows = [Passage(f"p{i}", f"text {i}") for i in range(6)]
    index = fake_index(rows, [1, 0, 2, 5], [0, 3, 2, 4])
    cfg = PipelineConfig(k=2, retrieval=RetrievalConfig(rrf_k=60, weights=(1.0, 1.0)), **MODEL_CITES)
    gen = scripted_generator("Text one [2].")
    answer = Pipeline(gen, index, cfg).ask("q")  # type: ignore[arg-type]
    # RRF with k = 60: p0 = 1/62 + 1/61 (BM25 rank 2, dense rank 1), p2 = 2/63, p1 = 1/61, ...
    assert [(sp.passage.id, sp.rank, sp.bm25_rank, sp.dense_rank) for sp in answer.passages] == [
        ("p0", 1, 2, 1),
        ("p2", 2, 3, 3),
    ]
    assert index.embedder.batches == [1]
    assert gen.messages == [rag_messages("q", rows[:1] + rows[2:3], style="default")]
    assert [c.passage.id for c in answer.citations] == ["p2"]


def test_no_index_and_no_passages_is_an_error(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator(ANSWER)
    with pytest.raises(RagError, match="no index"):
        Pipeline(gen, None, PipelineConfig(**MODEL_CITES)).ask("Where was tea first drunk?")
    assert gen.messages == []


# ---------------------------------------------------------------- post-hoc citations


def test_posthoc_recites_each_statement_and_renumbers(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], no_real_embedder: list[FakeEmbedder]
) -> None:
    judge = rule_judge(SUPPORT)
    cfg = PipelineConfig(prompt="quote", cite="posthoc", hide_unsupported=False, quote_fallback=False)
    answer = Pipeline(scripted_generator(ANSWER), None, cfg, attribution_judge=judge).ask(
        "Where was tea first drunk?", passages=PASSAGES
    )
    # Attribution (passages numbered bees 1, tea 2, coffee 3):
    # - the paraphrase ranks tea (overlap 3/5), coffee (1/5), bees (0 + 0.1 for the model's own
    #   [1]); no quote; the judge accepts tea alone -> [2];
    # - the copy is a quote of coffee -> [3] without asking the judge;
    # - the moon: no candidate and no pair is accepted -> unsupported, uncited.
    # Renumbering puts the cited passages first: tea (old 2) -> 1, coffee (old 3) -> 2, bees -> 3.
    assert answer.text == (
        "The first tea drinkers lived in China [1]. Coffee was first drunk in Yemen [2]. The moon is made of cheese."
    )
    assert [sp.passage.id for sp in answer.passages] == ["tea", "coffee", "bees"]
    assert [st.citations for st in answer.statements] == [(1,), (2,), ()]
    assert [st.raw for st in answer.statements] == [
        "The first tea drinkers lived in China [1].",
        "Coffee was first drunk in Yemen [2].",
        "The moon is made of cheese.",
    ]
    assert [st.verdict for st in answer.statements] == ["supported", "supported", "unsupported"]
    assert [(c.number, c.passage.id) for c in answer.citations] == [(1, "tea"), (2, "coffee")]
    assert answer.hidden == () and not answer.quoted_fallback
    # what the judge was asked: the paraphrase against its best candidate only (accepted, so the
    # others are not asked); the moon against the three alone (coffee first: the model cited it)
    # and the three pairs
    assert judge.asked == [
        (_premise(TEA), PARAPHRASE),
        (_premise(COFFEE), MOON),
        (_premise(BEES), MOON),
        (_premise(TEA), MOON),
        (f"{_premise(BEES)}\n{_premise(COFFEE)}", MOON),
        (f"{_premise(TEA)}\n{_premise(COFFEE)}", MOON),
        (f"{_premise(BEES)}\n{_premise(TEA)}", MOON),
    ]
    # the embedder (made once, there being no index) saw the three statements and three passages
    assert len(no_real_embedder) == 1
    assert no_real_embedder[0].encoded == [[PARAPHRASE, COPY, MOON] + [f"{p.title}\n{p.text}" for p in PASSAGES]]
    assert set(answer.timings) == {"retrieval", "time_to_first_token", "generation", "attribution", "total"}


def test_posthoc_uses_the_index_embedder(
    scripted_generator: type[ScriptedGenerator],
    rule_judge: type[RuleJudge],
    fake_index: type[FakeIndex],
    no_real_embedder: list[FakeEmbedder],
) -> None:
    index = fake_index(PASSAGES)
    cfg = PipelineConfig(prompt="quote", cite="posthoc", hide_unsupported=False, quote_fallback=False)
    pipe = Pipeline(scripted_generator(COPY), index, cfg, attribution_judge=rule_judge(SUPPORT))  # type: ignore[arg-type]
    answer = pipe.ask("Where was coffee first drunk?", passages=PASSAGES)
    assert answer.text == "Coffee was first drunk in Yemen [1]."
    assert [sp.passage.id for sp in answer.passages] == ["coffee", "bees", "tea"]
    assert index.embedder.encoded == [[COPY] + [f"{p.title}\n{p.text}" for p in PASSAGES]]
    assert no_real_embedder == []  # no other embedder was made


def test_hide_unsupported_moves_statements_to_hidden(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]
) -> None:
    cfg = PipelineConfig(prompt="quote", cite="posthoc", hide_unsupported=True, quote_fallback=True)
    answer = Pipeline(scripted_generator(ANSWER), None, cfg, attribution_judge=rule_judge(SUPPORT)).ask(
        "Where was tea first drunk?", passages=PASSAGES
    )
    assert answer.text == "The first tea drinkers lived in China [1]. Coffee was first drunk in Yemen [2]."
    assert [st.text for st in answer.statements] == [PARAPHRASE, COPY]
    assert [st.citations for st in answer.statements] == [(1,), (2,)]
    assert [sp.passage.id for sp in answer.passages] == ["tea", "coffee", "bees"]
    assert [(h.text, h.citations, h.verdict) for h in answer.hidden] == [(MOON, (), "unsupported")]
    assert not answer.quoted_fallback  # statements are left: no fallback
    d = answer.to_dict()
    assert [h["text"] for h in d["hidden_statements"]] == [MOON] and d["answer"] == answer.text


def test_hide_unsupported_with_model_citations(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]
) -> None:
    gen = scripted_generator("Tea was first drunk in China [2]. Coffee was first drunk in Yemen [1]. Bees make honey.")
    cfg = PipelineConfig(prompt="default", cite="model", hide_unsupported=True, quote_fallback=False)
    judge = rule_judge(SUPPORT)
    answer = Pipeline(gen, None, cfg, attribution_judge=judge).ask("Where?", passages=PASSAGES)
    # each cited statement is checked against its own citation: tea [2] holds, coffee [1] (bees) does
    # not; the uncited one is hidden too; the model's numbering and passage order stay
    assert answer.text == "Tea was first drunk in China [2]."
    assert [(h.text, h.citations, h.verdict) for h in answer.hidden] == [
        ("Coffee was first drunk in Yemen.", (1,), "unsupported"),
        ("Bees make honey.", (), "uncited"),
    ]
    assert [sp.passage.id for sp in answer.passages] == ["bees", "tea", "coffee"]
    assert judge.asked == [(_premise(TEA), "Tea was first drunk in China."), (_premise(BEES), COPY)]


def test_quote_fallback_when_nothing_is_supported(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], no_real_embedder: list[FakeEmbedder]
) -> None:
    cfg = PipelineConfig(prompt="quote", cite="posthoc", hide_unsupported=True, quote_fallback=True)
    question = "Where was coffee first drunk?"
    answer = Pipeline(scripted_generator(f"{MOON[:-1]} [1]."), None, cfg, attribution_judge=rule_judge(SUPPORT)).ask(
        question, passages=PASSAGES
    )
    # The question's content words are coffee, first, drunk: the coffee sentence has 3 of 3, the
    # tea sentence 2 of 3, the bees sentence none; two sentences are quoted, one per passage, then
    # renumbered: coffee (old 3) -> 1, tea (old 2) -> 2, bees -> 3.
    assert answer.quoted_fallback
    assert answer.text == (
        "Coffee was first drunk in Yemen [1]. "
        "Tea was first drunk in China, where legend credits the emperor Shennong [2]."
    )
    assert [sp.passage.id for sp in answer.passages] == ["coffee", "tea", "bees"]
    assert [(st.citations, st.verdict) for st in answer.statements] == [((1,), "supported"), ((2,), "supported")]
    assert [(h.text, h.citations, h.verdict) for h in answer.hidden] == [(MOON, (), "unsupported")]
    assert answer.to_dict()["quoted_fallback"] is True
    # one embedder: attribution embedded the statement and the passages, the fallback the question
    # and the three candidate sentences
    assert len(no_real_embedder) == 1
    assert no_real_embedder[0].encoded[1] == [question, BEES.text, TEA.text, COFFEE.text]


def test_no_quote_fallback_leaves_the_answer_empty(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]
) -> None:
    cfg = PipelineConfig(cite="posthoc", hide_unsupported=True, quote_fallback=False)
    answer = Pipeline(scripted_generator(MOON), None, cfg, attribution_judge=rule_judge(SUPPORT)).ask(
        "Where was coffee first drunk?", passages=PASSAGES
    )
    assert (answer.text, answer.statements, answer.quoted_fallback) == ("", (), False)
    assert [h.text for h in answer.hidden] == [MOON]
    assert [sp.passage.id for sp in answer.passages] == ["bees", "tea", "coffee"]  # nothing cited, order kept


# ---------------------------------------------------------------- best of n

HALF_SUPPORTED = "The moon is made of cheese [1]. Tea was first drunk in China [2]."
ALL_SUPPORTED = "Tea was first drunk in China [2]. Coffee was first drunk in Yemen [3]."


@pytest.mark.parametrize(
    ("greedy", "sampled", "chosen"),
    [
        # greedy: moon [1] unsupported, tea [2] supported -> 1/2; sample: both supported -> 2/2
        (
            f"{MOON[:-1]} [1]. Tea was first drunk in China [2].",
            f"Tea was first drunk in China [2]. {COPY[:-1]} [3].",
            1,
        ),
        # the same two answers the other way round: the greedy one is better and kept
        (
            f"Tea was first drunk in China [2]. {COPY[:-1]} [3].",
            f"{MOON[:-1]} [1]. Tea was first drunk in China [2].",
            0,
        ),
    ],
)
def test_samples_keep_the_better_supported_draft(
    scripted_generator: type[ScriptedGenerator],
    rule_judge: type[RuleJudge],
    greedy: str,
    sampled: str,
    chosen: int,
) -> None:
    gen = scripted_generator({-1: greedy, 1: sampled})
    cfg = PipelineConfig(samples=2, **MODEL_CITES)
    streamed: list[str] = []
    answer = Pipeline(gen, None, cfg, attribution_judge=rule_judge(SUPPORT)).ask(
        "Where?", passages=PASSAGES, on_token=streamed.append
    )
    assert (answer.samples, answer.chosen_sample) == (2, chosen)
    assert answer.text == [greedy, sampled][chosen]
    assert "".join(streamed) == greedy  # only the first (greedy) draft is streamed
    assert [(c.temperature, c.seed) for c in gen.configs] == [(0.0, 0), (0.7, 1)]
    assert set(answer.timings) == {"retrieval", "time_to_first_token", "generation", "attribution", "total"}


# ---------------------------------------------------------------- verification and errors


def test_verify_with_a_judge_gives_verdicts(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]
) -> None:
    gen = scripted_generator("Tea was first drunk in China [2]. Coffee was first drunk in China [3]. Both are drinks.")
    judge = rule_judge("words")
    answer = Pipeline(gen, None, PipelineConfig(**MODEL_CITES), judge=judge).ask(
        "Where?", passages=PASSAGES, verify=True
    )
    # "china" is not a word of the coffee passage; the last statement cites nothing
    assert [st.verdict for st in answer.statements] == ["supported", "unsupported", "uncited"]
    assert judge.batches == [
        [(_premise(TEA), "Tea was first drunk in China."), (_premise(COFFEE), "Coffee was first drunk in China.")]
    ]
    assert set(answer.timings) == {"retrieval", "time_to_first_token", "generation", "verification", "total"}


def test_verify_without_a_judge_fails_before_generating(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator(ANSWER)
    with pytest.raises(RagError, match="judge"):
        Pipeline(gen, None, PipelineConfig(**MODEL_CITES)).ask("Where?", passages=PASSAGES, verify=True)
    assert gen.messages == [] and gen.counter == [0]


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_empty_question_is_an_error(scripted_generator: type[ScriptedGenerator], question: str) -> None:
    gen = scripted_generator(ANSWER)
    with pytest.raises(RagError, match="empty"):
        Pipeline(gen, None, PipelineConfig(**MODEL_CITES)).ask(question, passages=PASSAGES)
    assert gen.messages == []


def test_closed_book(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator("Tea was first drunk in China [1]. It is a drink.")
    cfg = PipelineConfig(generation=GenerationConfig(max_tokens=40))
    answer = Pipeline(gen, None, cfg).closed_book("Where was tea first drunk?")
    assert gen.messages == [closed_book_messages("Where was tea first drunk?")]
    assert gen.configs == [GenerationConfig(max_tokens=40)]
    assert answer.text == "Tea was first drunk in China [1]. It is a drink."
    assert answer.passages == () and answer.citations == ()
    # with no passages every marker is invalid: dropped, never shown as a source
    assert [(st.text, st.citations, st.invalid_citations) for st in answer.statements] == [
        ("Tea was first drunk in China.", (), (1,)),
        ("It is a drink.", (), ()),
    ]
    assert answer.dropped_citations == (1,)
    assert set(answer.timings) == {"retrieval", "time_to_first_token", "generation", "total"}
    assert answer.timings["retrieval"] == 0.0


# ---------------------------------------------------------------- PipelineConfig as JSON

CHANGED = PipelineConfig(
    k=7,
    retrieval=RetrievalConfig(
        mode="dense", fusion="weighted", rrf_k=60, weights=(2.0, 0.5), norm="zscore", bm25_depth=7, dense_depth=9
    ),
    generation=GenerationConfig(
        max_tokens=64,
        temperature=0.3,
        top_p=0.9,
        seed=4,
        stop=("\n\n", "Question:"),
        grammar='root ::= "x"',
        repeat_penalty=1.1,
    ),
    prompt="alce",
    constrain_citations=True,
    cite="model",
    samples=3,
    sample_temperature=0.9,
    hide_unsupported=False,
    quote_fallback=False,
    attribution_judge="llm:qwen2.5-1.5b",
    attribution=AttributionConfig(candidates=4, max_set=3, quotes=False),
    evidence=EvidenceConfig(
        max_sentences=6,
        per_passage=2,
        min_words=3,
        keep_ratio=0.5,
        lexical_weight=0.7,
        type_weight=0.2,
        diversity=0.4,
        duplicate_overlap=0.8,
        min_relevance=0.25,
        judge_on_evidence=True,
        quote_words=50,
        rank_weight=0.5,
        scorer="hand",
        min_probability=0.1,
        prompt_sentences=3,
        reader=False,
        reader_sentences=5,
    ),
)


def _differences(a: object, b: object) -> list[str]:
    """Names of the (nested) dataclass fields that differ between ``a`` and ``b``."""
    out = []
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if hasattr(x, "__dataclass_fields__"):
            out += [f"{f.name}.{n}" for n in _differences(x, y)]
        elif x != y:
            out.append(f.name)
    return out


def test_changed_config_changes_every_setting() -> None:
    # so that the round trip below covers every field, nested ones included
    default = PipelineConfig()
    assert len(_differences(CHANGED, default)) == sum(
        len(fields(getattr(default, f.name))) if hasattr(getattr(default, f.name), "__dataclass_fields__") else 1
        for f in fields(default)
    )


@pytest.mark.parametrize("config", [PipelineConfig(), CHANGED], ids=["default", "changed"])
def test_config_json_round_trip(config: PipelineConfig) -> None:
    data = json.loads(json.dumps(config.to_dict()))
    back = PipelineConfig.from_dict(data)
    assert back == config
    assert isinstance(back.retrieval.weights, tuple) and isinstance(back.generation.stop, tuple)


def test_config_to_dict_is_plain_json() -> None:
    d = CHANGED.to_dict()
    assert d["retrieval"]["weights"] == [2.0, 0.5] and d["retrieval"]["rrf_k"] == 60
    assert d["generation"]["stop"] == ["\n\n", "Question:"] and d["generation"]["max_tokens"] == 64
    assert d["attribution"] == {"candidates": 4, "max_set": 3, "quotes": False}
    assert (d["k"], d["cite"], d["samples"]) == (7, "model", 3)


def test_config_missing_fields_take_their_defaults() -> None:
    assert PipelineConfig.from_dict({}) == PipelineConfig()
    assert PipelineConfig.from_dict({"k": 3, "retrieval": {"rrf_k": 60}}) == PipelineConfig(
        k=3, retrieval=RetrievalConfig(rrf_k=60)
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"k": 5, "temperature": 0.3}, r"unknown pipeline setting\(s\) temperature;"),
        ({"retrieval": {"rrf_k": 60, "depth": 3}}, r"unknown retrieval setting\(s\) depth$"),
        ({"generation": {"max_token": 10}}, r"unknown generation setting\(s\) max_token$"),
        ({"attribution": {"candidate": 2}}, r"unknown attribution setting\(s\) candidate$"),
    ],
)
def test_config_unknown_setting_is_an_error(data: dict, message: str) -> None:
    with pytest.raises(RagError, match=message):
        PipelineConfig.from_dict(data)
