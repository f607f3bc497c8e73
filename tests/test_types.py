"""rag.types: an answer as JSON (``Answer.to_dict``): each statement's supporting sentences with the
passage id and text, and an answer the passages do not give."""

from __future__ import annotations

from rag.types import Answer, Passage, ScoredPassage, Statement, Support

HONEY = "Honeybees live in colonies with one queen."


CURIE = "Radium was discovered by Marie Curie in Paris."


GLOW = "It glows faintly blue in the dark."


PASSAGE = Passage("p", f"{HONEY} {CURIE}\n{GLOW}", "Radium")


OTHER = Passage("o", "Polonium was named after Poland. Marie Curie was born in Warsaw.", "Polonium")


CURIE_SPAN = (len(HONEY) + 1, len(HONEY) + 1 + len(CURIE))


def test_to_dict_support_carries_the_passage_id_and_the_text() -> None:
    passages = (ScoredPassage(OTHER, 0.9, 1), ScoredPassage(PASSAGE, 0.8, 2))
    statement = Statement(
        "Marie Curie discovered radium in Paris.",
        "Marie Curie discovered radium in Paris [2][1].",
        (2, 1),
        support=(Support(2, *CURIE_SPAN), Support(1, 33, len(OTHER.text))),
    )
    d = Answer("Who?", statement.raw, (statement,), passages, "scripted").to_dict()
    assert d["answered"] is True
    assert d["statements"][0]["support"] == [
        {"passage": 2, "start": CURIE_SPAN[0], "end": CURIE_SPAN[1], "passage_id": "p", "text": CURIE},
        {
            "passage": 1,
            "start": 33,
            "end": len(OTHER.text),
            "passage_id": "o",
            "text": "Marie Curie was born in Warsaw.",
        },
    ]
    # Statement.to_dict alone has the offsets only; the statement itself is unchanged
    assert statement.to_dict()["support"] == [
        {"passage": 2, "start": CURIE_SPAN[0], "end": CURIE_SPAN[1]},
        {"passage": 1, "start": 33, "end": len(OTHER.text)},
    ]


def test_to_dict_of_an_unanswered_answer() -> None:
    d = Answer("Who?", "Not here.", (), (ScoredPassage(OTHER, 0.1, 1),), "scripted", answered=False).to_dict()
    assert (d["answered"], d["statements"], d["citations"], d["answer"]) == (False, [], [], "Not here.")
    assert d["passages"][0]["passage"]["id"] == "o"
