"""rag.evidence.features: what a question asks for, lexical overlap, each candidate's features
(worked out by hand with the BowEmbedder), and the reader's answer pieces."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest
from conftest import run_doctests

from rag.evidence import (
    FEATURE_NAMES,
    answer_pieces,
    answer_type,
    holds_answer,
    lexical_scores,
    matches_type,
)

from .cases import (
    COS_2_OF_4,
    GLOW,
    QUESTION,
    REPEAT,
    SHED,
    YEAR,
    features,
)

if TYPE_CHECKING:
    from conftest import BowEmbedder


@pytest.fixture
def embed(bow_embedder: type[BowEmbedder]) -> BowEmbedder:
    return bow_embedder()


# ---------------------------------------------------------------- answer types


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was radium discovered?", "date"),
        ("when did the war end", "date"),
        ("In what year did the Titanic sink?", "date"),
        ("Which century saw the printing press?", "date"),
        ("On what date was the treaty signed?", "date"),
        ("Who discovered radium?", "person"),
        ("To whom was the prize given?", "person"),
        ("The prize went to who?", "person"),
        ("Where is the Eiffel Tower?", "place"),
        ("In which country is Timbuktu?", "place"),
        ("What city hosted the 1900 games?", "place"),
        ("How many moons does Mars have?", "number"),
        ("How long is the Nile?", "number"),
        ("how   OLD was Mozart when he died?", "number"),  # spacing and case do not matter
        ("Why is the sky blue?", None),
        ("What is the capital of France?", None),
        ("Whose idea was the metric system?", None),  # "whose" is not "who"
    ],
)
def test_answer_type(question: str, kind: str | None) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "sentence", "expected"),
    [
        ("date", "Radium was discovered in December 1898.", True),
        ("date", "It was built in the 1890s.", True),
        ("date", "It spread in the 12th century across Europe.", True),
        ("date", "Radium glows faintly blue in the dark.", False),
        ("number", "Mars has two small moons.", True),
        ("number", "The river is 6,650 km long.", True),
        ("number", "Mars has small moons.", False),
        ("person", "It was discovered by Marie Curie in Paris.", True),
        ("person", "Radium was discovered in Paris.", False),  # one capitalised word is no name
        ("place", "The tower stands in Paris.", True),
        ("place", "The tower stands tall.", False),
        (None, "Radium was discovered in December 1898.", False),
    ],
)
def test_matches_type(kind: str | None, sentence: str, expected: bool) -> None:
    assert matches_type(kind, sentence) is expected


# ---------------------------------------------------------------- lexical scores


def test_lexical_scores_weigh_question_words_by_idf() -> None:
    # 4 sentences; "radium" is in 3 of them: idf log(1 + 4/4) = log 2; "discovered" in 2:
    # idf log(1 + 4/3). A sentence with both has 1; GLOW has radium only; SHED neither.
    scores = lexical_scores(QUESTION, [REPEAT, GLOW, YEAR, SHED])
    radium, discovered = math.log(2.0), math.log(1.0 + 4 / 3)
    assert scores == pytest.approx([1.0, radium / (radium + discovered), 1.0, 0.0])


def test_lexical_scores_of_a_question_without_content_words_are_zero() -> None:
    assert lexical_scores("When was it?", [YEAR, SHED]) == [0.0, 0.0]


# ---------------------------------------------------------------- the features


def test_sentence_features_by_hand(embed: BowEmbedder) -> None:
    rows = {name: col for name, col in zip(FEATURE_NAMES, features(embed).T, strict=True)}
    # cosines (content-word sets): REPEAT and YEAR hold both of the question's 2 words among 4,
    # GLOW holds 1 of 5, SHED none
    cos = [COS_2_OF_4, 1 / math.sqrt(2 * 5), COS_2_OF_4, 0.0]
    assert rows["cosine"] == pytest.approx(cos)
    # read with the title: "Radium: …" adds no word to REPEAT or GLOW; "Curie: …" adds "curie" to
    # YEAR (2 of 5 words) and to SHED (still none of the question's)
    assert rows["title_cosine"] == pytest.approx([COS_2_OF_4, cos[1], 2 / math.sqrt(2 * 5), 0.0])
    assert rows["lexical"].tolist() == [0.1, 0.2, 0.3, 0.4]  # passed through
    assert rows["type_match"].tolist() == [0, 0, 1, 0]  # only YEAR holds a date
    assert rows["rank_prior"].tolist() == [1, 1, 0.5, 0.5]
    assert rows["first_piece"].tolist() == [1, 0, 1, 0]
    assert rows["log_words"] == pytest.approx([math.log(7), math.log(7), math.log(6), math.log(8)])
    # capitalised words after the first that the question does not hold: "December"; "Curies", "Paris"
    assert rows["new_names"] == pytest.approx([0, 0, math.log(2), math.log(3)])
    assert rows["new_numbers"] == pytest.approx([0, 0, math.log(2), 0])  # 1898
    # the title "Radium" holds one of the question's two content words, "Curie" none
    assert rows["title_overlap"].tolist() == [0.5, 0.5, 0, 0]
    assert rows["passage_cosine"] == pytest.approx([COS_2_OF_4] * 4)
    assert rows["cosine_gap"] == pytest.approx([0, COS_2_OF_4 - cos[1], 0, COS_2_OF_4])
    assert rows["leans_back"].tolist() == [0, 0, 0, 0]
    # a "when" question: only the date columns are set
    assert rows["date_question"].tolist() == [1, 1, 1, 1]
    assert rows["date_type_match"].tolist() == rows["type_match"].tolist()
    assert rows["date_new_names"] == pytest.approx(rows["new_names"])
    assert rows["date_new_numbers"] == pytest.approx(rows["new_numbers"])
    for kind in ("person", "place", "number", "other"):
        for name in ("question", "type_match", "new_names", "new_numbers"):
            assert rows[f"{kind}_{name}"].tolist() == [0, 0, 0, 0]


# ---------------------------------------------------------------- the reader's answer


def test_answer_pieces_leave_out_what_the_question_says_and_long_replies() -> None:
    question = "Who played Alice in A League of Their Own?"
    assert answer_pieces(question, "Renée Coleman; Alice; A League of Their Own") == {"renée coleman"}
    assert answer_pieces(question, "it is said that she was played by an actress whose name is unknown") == set()
    assert answer_pieces(question, "") == set()
    assert holds_answer({"renée coleman"}, ["Renée Coleman – Alice", "Renee Coleman"]) == [True, False]
    assert holds_answer(set(), ["anything"]) == [False]


def test_the_module_examples_hold() -> None:
    import rag.evidence.features

    run_doctests(rag.evidence.features)
