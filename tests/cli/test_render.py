"""rag.cli.render: what `rag ask` prints of an answer: strict mode, the quote fallback's note, and
an answer the passages do not give (the closest passages listed instead)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.cli.render import render_answer
from rag.pipeline import NOT_ANSWERED
from rag.types import Answer, Passage, ScoredPassage, Statement

WHO = "Who discovered radium?"
DRINKS = [
    Passage("t", "Tea was first drunk in China.", "Tea"),
    Passage("c", "Coffee was first drunk in Yemen.", "Coffee"),
]


OFF_TOPIC = [
    Passage("banana", "Bananas grow well in warm tropical climates.", "Banana", "fruit.txt"),
    Passage("tower", "The Eiffel Tower opened to visitors in 1889.", "Eiffel Tower"),
]


def test_strict_rendering_shows_only_supported_statements(capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli.render import render_answer as _render_answer
    from rag.types import Answer, ScoredPassage

    answer = Answer(
        question="Where?",
        text="Tea is from China [1]. Coffee is from China [2].",
        statements=(
            Statement("Tea is from China.", "Tea is from China [1].", (1,), (), "supported"),
            Statement("Coffee is from China.", "Coffee is from China [2].", (2,), (), "unsupported"),
        ),
        passages=tuple(ScoredPassage(p, 0.0, i + 1) for i, p in enumerate(DRINKS)),
        generator="scripted",
    )
    _render_answer(answer, strict=True, streamed=False)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Tea is from China [1]."
    assert "Coffee is from China [2]" not in out
    assert "hidden: ✗ unsupported" in out


def test_a_quoted_fallback_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli.render import render_answer
    from rag.types import Answer, Passage, ScoredPassage

    quote = Statement("Tea was first drunk in China.", "Tea was first drunk in China [1].", (1,), verdict="supported")
    given = (ScoredPassage(Passage("tea", "Tea was first drunk in China.", "Tea"), 1.0, 1),)
    answer = Answer("Where?", quote.raw, (quote,), given, "scripted", {"total": 1.0}, quoted_fallback=True)
    render_answer(answer, strict=False, streamed=False)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [quote.raw, "(Quoted from the passages: nothing the model wrote itself was supported by them.)"]


def test_the_words_no_document_mentions_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    answer = Answer("How do I read HDF5?", "Use plot [1].", (), (), "scripted", {"total": 1.0}, missing_words=("hdf5",))
    render_answer(answer, strict=False, streamed=False)
    assert capsys.readouterr().out.splitlines()[:2] == ["Use plot [1].", "(No indexed document mentions: hdf5.)"]
    render_answer(replace(_unanswered(), missing_words=("hdf5", "zarr")), strict=False, streamed=False)
    assert capsys.readouterr().out.splitlines()[:2] == [NOT_ANSWERED, "(No indexed document mentions: hdf5, zarr.)"]


# ---------------------------------------------------------------- not answered


def _unanswered() -> Answer:
    given = tuple(ScoredPassage(p, 0.5 - i / 10, i + 1) for i, p in enumerate(OFF_TOPIC))
    return Answer(WHO, NOT_ANSWERED, (), given, "scripted", {"total": 0.25}, answered=False)


def test_render_says_not_answered_and_lists_the_closest_passages(capsys: pytest.CaptureFixture[str]) -> None:
    render_answer(_unanswered(), strict=False, streamed=False)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == NOT_ANSWERED
    assert "The closest passages" in out
    assert "  1. Banana (fruit.txt)" in lines
    assert "      Bananas grow well in warm tropical climates." in lines
    assert "  2. Eiffel Tower" in lines
    assert out.index("1. Banana") < out.index("2. Eiffel Tower")
    for absent in ("Sources:", "cites no passage", "first token", "Statements:"):
        assert absent not in out


@pytest.mark.parametrize(("strict", "streamed"), [(True, False), (False, True)])
def test_render_not_answered_whatever_the_mode(
    capsys: pytest.CaptureFixture[str], strict: bool, streamed: bool
) -> None:
    render_answer(_unanswered(), strict=strict, streamed=streamed)
    out = capsys.readouterr().out
    assert out.startswith(NOT_ANSWERED) and "The closest passages" in out


def test_render_of_an_answered_answer_has_no_closest_list(capsys: pytest.CaptureFixture[str]) -> None:
    answer = Answer(WHO, "Radium was discovered by the Curies.", (), (), "scripted", {"total": 0.25})
    render_answer(answer, strict=False, streamed=False)
    out = capsys.readouterr().out
    assert out.startswith("Radium was discovered by the Curies.")
    assert "closest passages" not in out and NOT_ANSWERED not in out
