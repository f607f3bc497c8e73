"""rag.citing.cleanup: cut-off and repeated sentences never reach the user.

A property test builds a few hundred answers from sentence lists (seeded ``random.Random``):
sentences repeated word for word (with other citations) or reworded with the same content words,
citations before or after the full stop, and the text cut at a random character when the
generation hit its token limit. Its oracle knows which sentence each piece of text came from, so
it says exactly which statements must survive ``drop_junk(parse_answer(text, n), truncated=...)``.
Then hand-made cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from rag.citing.citations import parse_answer
from rag.citing.cleanup import drop_junk, is_repeat
from rag.text import content_words, is_cut_off
from rag.types import Statement

# (sentence, a rewording with the same content words): no two rows repeat each other (checked
# below), and no sentence ends on a word like "the" or "in".
WORDS = [
    ("Marie Curie discovered radium with her husband.", "With her husband, Marie Curie discovered radium."),
    ("Radium glows faintly blue in the dark.", "In the dark, radium glows faintly blue."),
    ("The element was named after the Latin word for ray.", "After the Latin word for ray the element was named."),
    ("Pierre Curie died in a street accident in Paris.", "In Paris, Pierre Curie died in a street accident."),
    ("Radium paint was once used on watch dials.", "On watch dials, radium paint was once used."),
    ("Polonium was found a few months earlier!", "A few months earlier, polonium was found!"),
    ("Was the discovery announced to the academy?", "To the academy, was the discovery announced?"),
]


# Sentences that end on a number after "in" / "of" / "about": finished sentences all the same.
NUMBERS = [
    ("Radium was discovered in 1898.", "In 1898, radium was discovered."),
    ("The Curies shared the Nobel Prize in 1903.", "In 1903, the Curies shared the Nobel Prize."),
    ("Radium has an atomic number of 88.", "An atomic number of 88 is what radium has."),
    (
        "Its most stable isotope has a half-life of about 1600 years.",
        "A half-life of about 1600 years has its most stable isotope.",
    ),
    ("Marie Curie died in Passy in 1934.", "In 1934, Marie Curie died in Passy."),
]


@dataclass(frozen=True)
class Piece:
    """One sentence as written into the answer: ``raw`` spans ``[start, end)`` of the text and
    closes with its stop at ``stop`` (exclusive end of the stop); ``clean`` is the sentence
    without markers; ``row`` the pool row it comes from."""

    row: int
    clean: str
    start: int
    stop: int
    end: int


def _with_citation(rng: random.Random, sentence: str, n_passages: int) -> tuple[str, int]:
    """The sentence with a random citation, and the offset just after its closing stop."""
    body, stop = sentence[:-1], sentence[-1]
    cites = "".join(f"[{rng.randint(1, n_passages)}]" for _ in range(rng.choice([0, 1, 1, 2])))
    if not cites:
        return sentence, len(sentence)
    if rng.random() < 0.7:  # "A is B [1]."
        raw = f"{body} {cites}{stop}"
        return raw, len(raw)
    raw = f"{body}{stop} {cites}"  # "A is B. [1]": parse_answer moves the marker back
    return raw, len(body) + 1


def _build(rng: random.Random, pool: list[tuple[str, str]], n_passages: int) -> tuple[str, list[Piece]]:
    rows = rng.sample(range(len(pool)), rng.randint(1, min(5, len(pool))))
    order: list[tuple[int, str]] = []
    for row in rows:
        order.append((row, pool[row][0]))
        if rng.random() < 0.5:  # a repeat of some earlier sentence: a copy or the rewording
            earlier = rng.choice([r for r, _ in order])
            order.append((earlier, pool[earlier][rng.randint(0, 1)]))
    text = ""
    pieces: list[Piece] = []
    for row, sentence in order:
        if text:
            text += rng.choice([" ", " ", "  ", "\n"])
        raw, stop = _with_citation(rng, sentence, n_passages)
        pieces.append(Piece(row, sentence, len(text), len(text) + stop, len(text) + len(raw)))
        text += raw
    return text, pieces


def _expected(pieces: list[Piece], cut: int) -> list[str]:
    """The sentences that must be kept when the text is cut at ``cut``: those written up to their
    stop, each pool row once (its first occurrence)."""
    kept: list[str] = []
    rows: set[int] = set()
    for p in pieces:
        if cut >= p.stop and p.row not in rows:
            kept.append(p.clean)
            rows.add(p.row)
    return kept


def _check(kept: tuple[Statement, ...], truncated: bool) -> None:
    """The properties every cleaned answer has, whatever it was built from."""
    for i, st in enumerate(kept):
        if truncated:
            assert not is_cut_off(st.text), st.text
        words = content_words(st.text)
        for prev in kept[:i]:
            assert not is_repeat(st, [prev]), (prev.text, st.text)
            assert st.text != prev.text
            assert words != content_words(prev.text)


def _run_cases(pool: list[tuple[str, str]], seed: int, cases: int) -> None:
    rng = random.Random(seed)
    for _ in range(cases):
        n = rng.randint(1, 4)
        text, pieces = _build(rng, pool, n)
        truncated = rng.random() < 0.6
        # cut somewhere after the first sentence's first character (or not at all)
        cut = rng.randint(pieces[0].start + 1, len(text)) if truncated else len(text)
        written = text[:cut]
        parsed = parse_answer(written, n)
        cleaned = drop_junk(parsed, truncated=truncated)
        context = f"text={written!r} truncated={truncated}"
        # nothing is lost or made up: each statement is kept, cut off or a repeat
        assert len(cleaned.statements) + len(cleaned.cut_off) + len(cleaned.repeated) == len(parsed), context
        assert [st.text for st in cleaned.statements] == _expected(pieces, cut), context
        _check(cleaned.statements, truncated)
        # the citations survive with the statements they belong to
        for st in cleaned.statements:
            assert all(1 <= c <= n for c in st.citations)


def test_pool_rows_do_not_repeat_each_other() -> None:
    """The oracle's premise: two sentences of different rows are not repeats; a rewording is."""
    for pool in (WORDS, NUMBERS):
        statements = [Statement(text=s, raw=s) for s, _ in pool]
        for i, st in enumerate(statements):
            others = statements[:i] + statements[i + 1 :]
            assert not is_repeat(st, others), st.text
        for sentence, rewording in pool:
            assert content_words(sentence) == content_words(rewording)
            assert is_repeat(Statement(text=rewording, raw=rewording), [Statement(text=sentence, raw=sentence)])


@pytest.mark.parametrize("seed", range(6))
def test_cleaned_answers_have_no_cut_off_or_repeated_sentence(seed: int) -> None:
    _run_cases(WORDS, seed, 60)


def test_cleaned_answers_keep_sentences_ending_on_a_number() -> None:
    _run_cases(WORDS + NUMBERS, 100, 300)


# ---------------------------------------------------------------- hand-made cases


def _clean(text: str, n: int = 3, *, truncated: bool = False) -> tuple[list[str], list[str], list[str]]:
    c = drop_junk(parse_answer(text, n), truncated=truncated)
    return [s.text for s in c.statements], [s.text for s in c.cut_off], [s.text for s in c.repeated]


def test_a_repeated_sentence_with_another_citation_is_kept_once() -> None:
    cleaned = drop_junk(
        parse_answer("Radium was found by the Curies [1]. Radium was found by the Curies [2].", 2), truncated=False
    )
    assert [(s.text, s.citations) for s in cleaned.statements] == [("Radium was found by the Curies.", (1,))]
    assert [(s.text, s.citations) for s in cleaned.repeated] == [("Radium was found by the Curies.", (2,))]
    assert cleaned.cut_off == ()


def test_the_radium_1898_repeat_is_kept_once() -> None:
    kept, cut, repeated = _clean("Radium was found in 1898 [1]. Radium was found in 1898 [2].", 2)
    assert (kept, cut, repeated) == (["Radium was found in 1898."], [], ["Radium was found in 1898."])


def test_a_reworded_repeat_is_dropped() -> None:
    kept, _, repeated = _clean("Marie Curie discovered radium [1]. Radium was discovered by Marie Curie [2].")
    assert (kept, repeated) == (["Marie Curie discovered radium."], ["Radium was discovered by Marie Curie."])


def test_a_sentence_saying_less_than_an_earlier_one_is_a_repeat() -> None:
    kept, _, repeated = _clean("Radium glows faintly blue in the dark [1]. Radium glows [2].")
    assert (kept, repeated) == (["Radium glows faintly blue in the dark."], ["Radium glows."])
    # the other way round the second sentence adds something: both kept
    kept, _, repeated = _clean("Radium glows [2]. Radium glows faintly blue in the dark [1].")
    assert (kept, repeated) == (["Radium glows.", "Radium glows faintly blue in the dark."], [])


def test_a_truncated_last_sentence_is_dropped() -> None:
    text = "Marie Curie isolated radium [1]. It was first isolated by the"
    assert _clean(text, truncated=True) == (["Marie Curie isolated radium."], ["It was first isolated by the"], [])
    # it ends on "the": dropped even when the generation stopped by itself
    assert _clean(text, truncated=False)[0] == ["Marie Curie isolated radium."]


def test_a_truncated_sentence_without_its_stop_is_dropped_only_when_truncated() -> None:
    text = "Marie Curie isolated radium [1]. It glows faintly blue [2]"
    assert _clean(text, truncated=True)[0] == ["Marie Curie isolated radium."]
    assert _clean(text, truncated=False)[0] == ["Marie Curie isolated radium.", "It glows faintly blue"]


def test_a_finished_short_answer_without_a_stop_is_kept() -> None:
    cleaned = drop_junk(parse_answer("Henri Becquerel [1]", 2), truncated=False)
    assert [(s.text, s.citations) for s in cleaned.statements] == [("Henri Becquerel", (1,))]
    assert _clean("Henri Becquerel [1]", truncated=True) == ([], ["Henri Becquerel"], [])


def test_a_dangling_word_drops_a_sentence_anywhere() -> None:
    text = "The prize went to the. Marie Curie won it twice [2]. Pierre Curie died in Paris [1]."
    assert _clean(text) == (
        ["Marie Curie won it twice.", "Pierre Curie died in Paris."],
        ["The prize went to the."],
        [],
    )


def test_only_the_last_sentence_is_checked_for_its_stop() -> None:
    # parse_answer cannot give an unfinished middle sentence from this text; a middle statement
    # without a stop (a citation run cut it) is not dropped for that
    statements = (
        Statement("Radium glows", "Radium glows [1]", (1,)),
        Statement("Polonium too.", "Polonium too. [2]", (2,)),
    )
    assert drop_junk(statements, truncated=True).statements == statements


def test_the_overlap_threshold() -> None:
    first = Statement("Radium glows faintly blue.", "")  # radium, glows, faintly, blue
    second = Statement("Radium glows faintly green.", "")  # Jaccard 3/5 = 0.6
    assert drop_junk([first, second], truncated=False).statements == (first, second)
    assert drop_junk([first, second], truncated=False, overlap=0.6).statements == (first,)


def test_is_repeat_without_content_words_is_never_a_repeat_of_something_else() -> None:
    empty = Statement("It is so.", "")
    assert not is_repeat(empty, [Statement("Radium glows.", "")])
    assert not is_repeat(Statement("Radium glows.", ""), [])


def test_an_exact_copy_made_of_stop_words_is_a_repeat() -> None:
    kept, _, repeated = _clean("He did it [1]. He did it [1].")
    assert (kept, repeated) == (["He did it."], ["He did it."])


def test_a_sentence_ending_on_a_colon_is_cut_off() -> None:
    # what it introduces (a command, a list) is missing: "use the following pragma: [1]."
    text = "To switch to WAL, use the following pragma: [1]. WAL mode is persistent [2]."
    assert _clean(text, truncated=False)[0] == ["WAL mode is persistent."]
    assert _clean("Use the following command:. It is fast [1].", truncated=False)[0] == ["It is fast."]
