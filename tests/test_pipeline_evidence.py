"""The ``evidence`` prompt through Pipeline.ask, with a scripted generator, rule judges and a fake
index whose embedder is conftest's BowEmbedder (cosine = shared content words): what the generator
is shown, how its citations come back, the junk filter, the quote fallback, the "not answered"
path, and the ``support`` offsets of ``Answer.to_dict()`` for the evidence and the quote prompts.

The evidence for WHO below is chosen by the learned scorer (rag.evidence.scorer) with at most 4
sentences, 2 a passage, no reader, and a probability floor of 0.02 (log-odds -3.89): DISCOVERED
("Radium was discovered by Marie Curie and Pierre Curie.", log-odds about -1.7) then ORE ("The
element radium was discovered in a pitchblende ore sample.", about -3.2); GLOW and the others
score under the floor (GLOW about -5.8). The first test checks this choice, which the others rest
on. The gate reads relevance (cosine + 0.5 * lexical + 0.1 * type match): DISCOVERED's is 1.232.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import rag.pipeline as pipeline_module
from rag.evidence import EvidenceConfig, select_evidence
from rag.generation import GenerationConfig
from rag.generation.prompts import rag_messages
from rag.indexing.store import load_index
from rag.pipeline import NOT_ANSWERED, Pipeline, PipelineConfig
from rag.types import Passage, Support

if TYPE_CHECKING:
    from conftest import BowEmbedder, FakeIndex, RuleJudge, ScriptedGenerator


WHO = "Who discovered radium?"


DISCOVERED = "Radium was discovered by Marie Curie and Pierre Curie."


SHED = "The couple worked in a cold shed in Paris."


GLOW = "Radium glows faintly blue in the dark."


ORE = "The element radium was discovered in a pitchblende ore sample."


LATIN = "Its name comes from the Latin word for ray."


BEES = Passage("bees", "Honeybees live in colonies with one queen. The queen lays every egg of the hive.", "Bees")


CURIE = Passage("curie", f"{DISCOVERED} {SHED} {GLOW}", "Curie")


ELEMENT = Passage("element", f"{ORE} {LATIN}", "Element")


PASSAGES = [BEES, CURIE, ELEMENT]


# The generator cites the evidence passages as the prompt numbers them: [1] Curie, [2] Element.
COMPOSED = "Marie Curie and Pierre Curie discovered radium [1]. It was found in a pitchblende ore sample [2]."


# The evidence as worked out above, and no quotes after the answer (their own tests set quote_words).
EVIDENCE = EvidenceConfig(max_sentences=4, per_passage=2, min_probability=0.02, reader=False, quote_words=0)
MODEL_CITES = {
    "prompt": "evidence",
    "cite": "model",
    "hide_unsupported": False,
    "quote_fallback": False,
    "evidence": EVIDENCE,
}


OFF_TOPIC = [
    Passage("banana", "Bananas grow well in warm tropical climates.", "Banana", "fruit.txt"),
    Passage("tower", "The Eiffel Tower opened to visitors in 1889.", "Eiffel Tower"),
]


@pytest.fixture
def index(fake_index: type[FakeIndex], bow_embedder: type[BowEmbedder]) -> FakeIndex:
    """A fake index over PASSAGES (both searches rank them in order) with the BowEmbedder."""
    idx = fake_index(PASSAGES, [0, 1, 2], [0, 1, 2])
    idx.embedder = bow_embedder()
    return idx


@pytest.fixture(autouse=True)
def no_real_embedder(monkeypatch: pytest.MonkeyPatch, bow_embedder: type[BowEmbedder]) -> None:
    """Without an index Pipeline._embed would build the real Embedder: a BowEmbedder instead."""
    monkeypatch.setattr(pipeline_module, "Embedder", bow_embedder)


def _prompt(gen: ScriptedGenerator) -> str:
    """The last user turn of the (only) generation: the passages and the question."""
    assert len(gen.messages) == 1
    return gen.messages[0][-1]["content"]


def test_the_evidence_these_tests_rest_on(bow_embedder: type[BowEmbedder]) -> None:
    selection = select_evidence(WHO, PASSAGES, embed=bow_embedder().encode, config=EVIDENCE)
    assert [(e.passage, e.text) for e in selection.evidence] == [(2, DISCOVERED), (3, ORE)]
    assert selection.answered and selection.relevance == pytest.approx(1.232, abs=1e-3)


# ---------------------------------------------------------------- what the generator sees


def test_the_generator_sees_only_the_evidence_renumbered(
    scripted_generator: type[ScriptedGenerator], index: FakeIndex
) -> None:
    gen = scripted_generator(COMPOSED)
    Pipeline(gen, index, PipelineConfig(**MODEL_CITES)).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    prompt = _prompt(gen)
    reduced = [Passage("curie", DISCOVERED, "Curie"), Passage("element", ORE, "Element")]
    assert gen.messages == [rag_messages(WHO, reduced, style="evidence")]
    assert f"[1] Title: Curie\n{DISCOVERED}\n\n[2] Title: Element\n{ORE}\n\n" in prompt
    # the off-topic passage and the off-topic sentences of the evidence passages are left out
    for absent in ("Honeybees", "queen", SHED, GLOW, LATIN, "[3]", "Title: Bees"):
        assert absent not in prompt
    assert prompt.endswith(f"Question: {WHO}")


def test_the_generator_sees_the_first_prompt_sentences_only(
    scripted_generator: type[ScriptedGenerator], index: FakeIndex
) -> None:
    # DISCOVERED (log-odds -1.7) is chosen before ORE (-3.2); with prompt_sentences=1 only it is shown,
    # numbered [1], while ORE stays evidence (it could still be quoted)
    gen = scripted_generator(COMPOSED)
    cfg = PipelineConfig(**MODEL_CITES | {"evidence": replace(EVIDENCE, prompt_sentences=1)})
    answer = Pipeline(gen, index, cfg).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    prompt = _prompt(gen)
    assert f"[1] Title: Curie\n{DISCOVERED}\n\n" in prompt
    assert ORE not in prompt and "[2]" not in prompt
    assert answer.answered


def test_the_generators_citations_are_mapped_back_to_the_given_passages(
    scripted_generator: type[ScriptedGenerator], index: FakeIndex
) -> None:
    answer = Pipeline(scripted_generator(COMPOSED), index, PipelineConfig(**MODEL_CITES)).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    # prompt [1] is given passage 2 (curie), prompt [2] given passage 3 (element)
    assert [(st.citations, st.raw) for st in answer.statements] == [
        ((2,), "Marie Curie and Pierre Curie discovered radium [2]."),
        ((3,), "It was found in a pitchblende ore sample [3]."),
    ]
    assert [sp.passage.id for sp in answer.passages] == ["bees", "curie", "element"]  # not reordered
    assert [(c.number, c.passage.id) for c in answer.citations] == [(2, "curie"), (3, "element")]
    assert answer.answered and not answer.quoted_fallback
    # each statement's supporting sentence: all five content words of the first are DISCOVERED's,
    # three of four of the second (found is not) are ORE's
    assert [st.support for st in answer.statements] == [
        (_support(2, CURIE, DISCOVERED),),
        (_support(3, ELEMENT, ORE),),
    ]
    assert "evidence" in answer.timings


def _support(n: int, passage: Passage, sentence: str) -> Support:
    """Passage ``n``'s span of ``sentence`` (found in the passage's text)."""
    start = passage.text.index(sentence)
    return Support(n, start, start + len(sentence))


def test_the_answer_text_cites_the_given_passages(
    scripted_generator: type[ScriptedGenerator], index: FakeIndex
) -> None:
    answer = Pipeline(scripted_generator(COMPOSED), index, PipelineConfig(**MODEL_CITES)).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    assert (
        answer.text
        == "Marie Curie and Pierre Curie discovered radium [2]. It was found in a pitchblende ore sample [3]."
    )


def test_posthoc_citing_works_on_the_whole_passages(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    # the judge entails a statement whose every word is in the premise; the shed sentence was
    # not shown to the generator but is in the given passage, so the judge finds it there
    gen = scripted_generator(
        "Marie Curie and Pierre Curie discovered radium [2]. The couple worked in a cold shed [1]."
    )
    judge = rule_judge("words")
    answer = Pipeline(gen, index, PipelineConfig(prompt="evidence", evidence=EVIDENCE), attribution_judge=judge).ask(
        WHO, passages=PASSAGES
    )  # type: ignore[arg-type]
    assert [(st.text, st.citations, st.verdict) for st in answer.statements] == [
        ("Marie Curie and Pierre Curie discovered radium.", (1,), "supported"),
        ("The couple worked in a cold shed.", (1,), "supported"),
    ]
    assert [sp.passage.id for sp in answer.passages] == ["curie", "bees", "element"]  # renumbered
    assert answer.text == ("Marie Curie and Pierre Curie discovered radium [1]. The couple worked in a cold shed [1].")
    assert [st.support for st in answer.statements] == [(_support(1, CURIE, DISCOVERED),), (_support(1, CURIE, SHED),)]


def test_judge_on_evidence_judges_against_the_evidence_sentences_only(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    # the same answer as above: with judge_on_evidence the judge reads only "Curie" cut to its
    # evidence sentence, so the shed sentence (not evidence) is no longer supported and is hidden
    gen = scripted_generator(
        "Marie Curie and Pierre Curie discovered radium [2]. The couple worked in a cold shed [1]."
    )
    judge = rule_judge("words")
    cfg = PipelineConfig(
        prompt="evidence",
        evidence=replace(EVIDENCE, judge_on_evidence=True),
        quote_fallback=False,
    )
    answer = Pipeline(gen, index, cfg, attribution_judge=judge).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    assert [(st.text, st.citations, st.verdict) for st in answer.statements] == [
        ("Marie Curie and Pierre Curie discovered radium.", (1,), "supported"),
    ]
    assert [st.text for st in answer.hidden] == ["The couple worked in a cold shed."]
    premises = {premise for premise, _ in judge.asked}
    assert all(SHED not in premise and GLOW not in premise for premise in premises)
    assert any(DISCOVERED in premise for premise in premises)
    # the supporting sentence still points into the whole passage
    assert [st.support for st in answer.statements] == [(_support(1, CURIE, DISCOVERED),)]


def test_junk_is_dropped_before_citing(scripted_generator: type[ScriptedGenerator], index: FakeIndex) -> None:
    # a repeat with another citation and a cut-off last sentence (the token limit was reached)
    text = f"{COMPOSED} Marie Curie and Pierre Curie discovered radium [2]. The element was named after the"
    gen = scripted_generator(text)
    cfg = PipelineConfig(**MODEL_CITES, generation=GenerationConfig(max_tokens=len(text.split())))
    answer = Pipeline(gen, index, cfg).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    assert [(st.text, st.citations) for st in answer.statements] == [
        ("Marie Curie and Pierre Curie discovered radium.", (2,)),
        ("It was found in a pitchblende ore sample.", (3,)),
    ]
    # statements were dropped: the text is made from the kept ones, with their mapped markers
    assert (
        answer.text
        == "Marie Curie and Pierre Curie discovered radium [2]. It was found in a pitchblende ore sample [3]."
    )


# ---------------------------------------------------------------- the quote fallback


def test_the_fallback_quotes_the_two_best_evidence_sentences(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    gen = scripted_generator("The moon is made of cheese [1].")
    answer = Pipeline(
        gen, index, PipelineConfig(prompt="evidence", evidence=EVIDENCE), attribution_judge=rule_judge("words")
    ).ask(  # type: ignore[arg-type]
        WHO, passages=PASSAGES
    )
    assert answer.quoted_fallback and answer.answered
    assert [h.text for h in answer.hidden] == ["The moon is made of cheese."]
    # DISCOVERED (given 2) then ORE (given 3), renumbered 1 and 2
    assert answer.text == f"{DISCOVERED[:-1]} [1]. {ORE[:-1]} [2]."
    assert [sp.passage.id for sp in answer.passages] == ["curie", "element", "bees"]
    assert [(st.text, st.citations, st.verdict) for st in answer.statements] == [
        (DISCOVERED, (1,), "supported"),
        (ORE, (2,), "supported"),
    ]
    assert [st.support for st in answer.statements] == [(_support(1, CURIE, DISCOVERED),), (_support(2, ELEMENT, ORE),)]


def test_the_evidence_fallback_may_quote_one_passage_twice(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    """Where the evidence is two sentences of one passage, the fallback quotes both (the quote
    prompt's fallback takes one sentence a passage, so it differs here)."""
    second = "Marie Curie discovered radium in a cold shed in Paris."
    passages = [Passage("curie", f"{DISCOVERED} {second}", "Curie"), BEES]
    # second (log-odds -3.0, over the floor) shares 4 of 8 content words with DISCOVERED (-1.3):
    # no duplicate; the bees sentences score under -6
    gen = scripted_generator("The moon is made of cheese [1].")
    answer = Pipeline(
        gen, index, PipelineConfig(prompt="evidence", evidence=EVIDENCE), attribution_judge=rule_judge("words")
    ).ask(  # type: ignore[arg-type]
        WHO, passages=passages
    )
    assert answer.text == f"{DISCOVERED[:-1]} [1]. {second[:-1]} [1]."
    assert [st.support for st in answer.statements] == [
        (_support(1, passages[0], DISCOVERED),),
        (_support(1, passages[0], second),),
    ]
    quote = Pipeline(
        scripted_generator("The moon is made of cheese [1]."),
        index,
        PipelineConfig(prompt="quote"),
        attribution_judge=rule_judge("words"),
    ).ask(  # type: ignore[arg-type]
        WHO, passages=passages
    )
    assert quote.quoted_fallback
    assert [st.text for st in quote.statements] == [DISCOVERED, "Honeybees live in colonies with one queen."]


def test_an_answer_emptied_by_the_junk_filter_falls_back(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    gen = scripted_generator("It was first isolated by the")
    judge = rule_judge("words")
    answer = Pipeline(gen, index, PipelineConfig(prompt="evidence", evidence=EVIDENCE), attribution_judge=judge).ask(
        WHO, passages=PASSAGES
    )  # type: ignore[arg-type]
    assert answer.quoted_fallback
    assert [st.text for st in answer.statements] == [DISCOVERED, ORE]
    assert answer.hidden == ()  # the cut-off sentence was never a statement
    assert judge.asked == []


# ---------------------------------------------------------------- not answered


def test_off_topic_passages_are_not_answered(
    scripted_generator: type[ScriptedGenerator],
    rule_judge: type[RuleJudge],
    fake_index: type[FakeIndex],
    bow_embedder: type[BowEmbedder],
) -> None:
    index = fake_index(OFF_TOPIC, [1, 0], [1, 0])
    index.embedder = bow_embedder()
    gen = scripted_generator(COMPOSED)
    judge = rule_judge("words")
    pipe = Pipeline(gen, index, PipelineConfig(prompt="evidence", k=2, evidence=EVIDENCE), attribution_judge=judge)  # type: ignore[arg-type]
    answer = pipe.ask(WHO)
    # nothing shares a content word with the question; "Eiffel Tower" reads as a name (+0.1):
    # relevance 0.1 < min_relevance 0.55
    assert answer.text == NOT_ANSWERED
    assert answer.answered is False
    assert answer.statements == () and answer.hidden == () and not answer.quoted_fallback
    assert gen.messages == [] and gen.counter == [0]
    assert judge.asked == []
    # the passages found are still listed, in retrieval order
    assert [(sp.passage.id, sp.rank) for sp in answer.passages] == [("tower", 1), ("banana", 2)]
    assert {"retrieval", "evidence", "total"} <= set(answer.timings)
    d = answer.to_dict()
    assert (d["answer"], d["answered"], d["statements"], d["citations"]) == (NOT_ANSWERED, False, [], [])
    assert [p["passage"]["id"] for p in d["passages"]] == ["tower", "banana"]


def test_given_off_topic_passages_are_not_answered(
    scripted_generator: type[ScriptedGenerator], index: FakeIndex
) -> None:
    gen = scripted_generator(COMPOSED)
    answer = Pipeline(gen, index, PipelineConfig(**MODEL_CITES)).ask(WHO, passages=OFF_TOPIC)  # type: ignore[arg-type]
    assert (answer.text, answer.answered, gen.messages) == (NOT_ANSWERED, False, [])
    assert [sp.passage for sp in answer.passages] == OFF_TOPIC


def test_the_gate_is_min_relevance(scripted_generator: type[ScriptedGenerator], index: FakeIndex) -> None:
    gen = scripted_generator("The Eiffel Tower opened to visitors in the spring [2].")
    cfg = PipelineConfig(**MODEL_CITES | {"evidence": replace(EVIDENCE, min_relevance=0.1)})
    answer = Pipeline(gen, index, cfg).ask(WHO, passages=OFF_TOPIC)  # type: ignore[arg-type]
    assert answer.answered and len(gen.messages) == 1
    # none is over the floor: the best, the tower sentence (-6.6; bananas -6.9), alone is evidence:
    # prompt [1] is given passage 2
    assert "[1] Title: Eiffel Tower\nThe Eiffel Tower opened to visitors in 1889." in _prompt(gen)
    assert "Bananas" not in _prompt(gen)
    assert answer.statements[0].citations == ()  # [2] is no passage of the prompt
    assert answer.statements[0].invalid_citations == (2,)


def test_other_prompts_have_no_gate(scripted_generator: type[ScriptedGenerator], index: FakeIndex) -> None:
    gen = scripted_generator("Bananas grow well in warm tropical climates [1].")
    answer = Pipeline(gen, index, PipelineConfig(**MODEL_CITES | {"prompt": "quote"})).ask(WHO, passages=OFF_TOPIC)  # type: ignore[arg-type]
    assert answer.answered and len(gen.messages) == 1
    assert answer.statements[0].citations == (1,)


@pytest.mark.parametrize("question", ["?!?", "Qui a construit la tour Eiffel et pourquoi ?"])
def test_nothing_relevant_is_not_answered(
    docs_index: Path,
    question: str,
    scripted_generator: type[ScriptedGenerator],
    rule_judge: type[RuleJudge],
) -> None:
    index = load_index(docs_index, device="cpu")
    gen = scripted_generator("Tea was first drunk in China [1].")
    answer = Pipeline(gen, index, PipelineConfig(k=3), attribution_judge=rule_judge("words")).ask(question)
    assert answer.answered is False and answer.text == NOT_ANSWERED
    assert gen.messages == []  # the generator was never asked
    assert len(answer.passages) == 3  # shown as the closest passages, not as an answer


# ---------------------------------------------------------------- --json support offsets


# Passages with odd white space, the quoted sentences not first.
MESSY_CURIE = Passage("curie", f"  {SHED}\n\n{DISCOVERED}  {GLOW}\n", "Curie")


MESSY_ELEMENT = Passage("element", f"{ORE}\n{LATIN}", "Element")


MESSY = [BEES, MESSY_CURIE, MESSY_ELEMENT]


# A word for word quote of DISCOVERED (cited to curie without the judge) and a paraphrase of
# LATIN ("word" left out: 6 of 8 words in runs of 3 or more, no quote) that the judge places.
QUOTED = f"{DISCOVERED[:-1]} [2]. Its name comes from the Latin for ray [1]."


@pytest.mark.parametrize("prompt", ["evidence", "quote"])
def test_json_support_offsets_point_at_the_supporting_sentence(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex, prompt: str
) -> None:
    judge = rule_judge("words")
    pipe = Pipeline(
        scripted_generator(QUOTED), index, PipelineConfig(prompt=prompt, evidence=EVIDENCE), attribution_judge=judge
    )  # type: ignore[arg-type]
    d = pipe.ask(WHO, passages=MESSY).to_dict()
    assert [p["passage"]["id"] for p in d["passages"]] == ["curie", "element", "bees"]
    assert [(s["text"], s["citations"]) for s in d["statements"]] == [
        (DISCOVERED, [1]),
        ("Its name comes from the Latin for ray.", [2]),
    ]
    expected = [(1, "curie", MESSY_CURIE, DISCOVERED), (2, "element", MESSY_ELEMENT, LATIN)]
    for statement, (number, pid, passage, sentence) in zip(d["statements"], expected, strict=True):
        (support,) = statement["support"]
        start = passage.text.index(sentence)
        assert support == {
            "passage": number,
            "start": start,
            "end": start + len(sentence),
            "passage_id": pid,
            "text": sentence,
        }
        given = d["passages"][support["passage"] - 1]["passage"]
        assert given["text"][support["start"] : support["end"]] == support["text"]
    assert [st for st in judge.asked if st[1] == DISCOVERED] == []  # the quote was not put to the judge


def test_json_support_of_model_citations(scripted_generator: type[ScriptedGenerator], index: FakeIndex) -> None:
    gen = scripted_generator("The couple worked in a cold shed in Paris [1]. Honeybees live in colonies [2].")
    d = Pipeline(gen, index, PipelineConfig(**MODEL_CITES | {"prompt": "quote"})).ask(WHO, passages=MESSY).to_dict()
    # [1] is bees, where no sentence shares half the words of the shed statement: no span; the
    # bees statement cites curie (2), where nothing matches either
    assert [s["support"] for s in d["statements"]] == [[], []]
    gen = scripted_generator("The couple worked in a cold shed in Paris [2]. Honeybees live in colonies [1][3].")
    d = Pipeline(gen, index, PipelineConfig(**MODEL_CITES | {"prompt": "quote"})).ask(WHO, passages=MESSY).to_dict()
    # SHED opens the passage: punkt's first sentence keeps the white space before it (as
    # split_sentences gives it), so the span starts at 0
    (shed,) = d["statements"][0]["support"]
    end = MESSY_CURIE.text.index(SHED) + len(SHED)
    assert shed == {"passage": 2, "start": 0, "end": end, "passage_id": "curie", "text": MESSY_CURIE.text[:end]}
    assert shed["text"].strip() == SHED
    bees_first = "Honeybees live in colonies with one queen."
    assert d["statements"][1]["support"] == [
        {"passage": 1, "start": 0, "end": len(bees_first), "passage_id": "bees", "text": bees_first}
    ]


def test_an_answer_ending_on_a_year_is_kept(scripted_generator: type[ScriptedGenerator], index: FakeIndex) -> None:
    passages = [
        Passage("radium", "Radium was discovered in December 1898. It glows faintly blue in the dark.", "Radium")
    ]
    gen = scripted_generator("Radium was discovered in 1898 [1].")
    answer = Pipeline(gen, index, PipelineConfig(**MODEL_CITES)).ask("When was radium discovered?", passages=passages)  # type: ignore[arg-type]
    assert [(st.text, st.citations) for st in answer.statements] == [("Radium was discovered in 1898.", (1,))]


# ---------------------------------------------------------------- quoted evidence after the answer


def test_quote_words_follow_the_supported_answer_with_evidence(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    # the composed sentence (7 words) is supported by Curie; DISCOVERED repeats it (Jaccard 5/5 of
    # content words marie, curie, pierre, discovered, radium) and is skipped; ORE (10 words) fits in 20
    gen = scripted_generator("Marie Curie and Pierre Curie discovered radium [1].")
    cfg = PipelineConfig(prompt="evidence", evidence=replace(EVIDENCE, quote_words=20))
    answer = Pipeline(gen, index, cfg, attribution_judge=rule_judge("words")).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    assert answer.text == f"Marie Curie and Pierre Curie discovered radium [1]. {ORE[:-1]} [2]."
    assert not answer.quoted_fallback
    assert [sp.passage.id for sp in answer.passages] == ["curie", "element", "bees"]
    assert [st.support for st in answer.statements][1] == (_support(2, ELEMENT, ORE),)


def test_quote_words_replace_the_fallback_of_an_empty_answer(
    scripted_generator: type[ScriptedGenerator], rule_judge: type[RuleJudge], index: FakeIndex
) -> None:
    gen = scripted_generator("The moon is made of cheese [1].")
    cfg = PipelineConfig(prompt="evidence", evidence=replace(EVIDENCE, quote_words=12))
    answer = Pipeline(gen, index, cfg, attribution_judge=rule_judge("words")).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    # DISCOVERED (9 words) always; ORE would make 19 > 12
    assert answer.text == f"{DISCOVERED[:-1]} [1]."
    assert answer.quoted_fallback and [h.text for h in answer.hidden] == ["The moon is made of cheese."]
    off = PipelineConfig(prompt="evidence", evidence=replace(EVIDENCE, quote_words=12), quote_fallback=False)
    gen = scripted_generator("The moon is made of cheese [1].")
    empty = Pipeline(gen, index, off, attribution_judge=rule_judge("words")).ask(WHO, passages=PASSAGES)  # type: ignore[arg-type]
    assert empty.text == "" and not empty.statements and not empty.quoted_fallback
