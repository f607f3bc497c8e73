"""rag.evidence.candidates: the quotable pieces of passages (punkt sentences cut at headings, markup,
list markers and line breaks, with offsets into the passage's own text) and which are whole
(fragments where a passage was cut, list lines). Some tests go through select_evidence with every
whole piece eligible (``cases.ALL``), so that what is chosen shows what the candidates are."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from conftest import run_doctests

from rag.evidence import (
    EvidenceSelection,
    candidate_evidence,
    clean_spans,
    cut_at_start,
    is_fragment,
    is_list_line,
    is_whole,
    select_evidence,
    title_heading,
)
from rag.text import sentence_spans, split_sentences
from rag.types import Passage

from .cases import (
    ALL,
    GLOW,
    QUESTION,
    RECORDS,
    REPEAT,
    SHED,
    TWO,
    YEAR,
    texts,
)

if TYPE_CHECKING:
    from conftest import BowEmbedder


@pytest.fixture
def embed(bow_embedder: type[BowEmbedder]) -> BowEmbedder:
    return bow_embedder()


def test_candidates_are_every_whole_piece_in_passage_order() -> None:
    assert [(c.passage, c.text) for c in candidate_evidence(TWO, 5)] == [
        (1, REPEAT),
        (1, GLOW),
        (2, YEAR),
        (2, SHED),
    ]


def test_sentences_under_min_words_are_not_candidates() -> None:
    passages = [Passage("short", "Radium was discovered. It was in 1898. Radium was discovered in December 1898.")]
    selection = select_evidence(QUESTION, passages, config=ALL)
    assert texts(selection) == [YEAR]  # the two four-word sentences are too short
    four = select_evidence(QUESTION, passages, config=replace(ALL, min_words=4))
    assert sorted(texts(four)) == sorted([YEAR, "It was in 1898."])
    assert [c.text for c in candidate_evidence(passages, 4)] == ["It was in 1898.", YEAR]
    nothing = select_evidence(QUESTION, [Passage("tiny", "Radium. Found 1898.")], config=ALL)
    assert nothing == EvidenceSelection((), 0.0, False)
    assert select_evidence(QUESTION, [], config=ALL) == EvidenceSelection((), 0.0, False)


# ---------------------------------------------------------------- offsets


def _messy_passages(seed: int) -> list[Passage]:
    """Passages with odd white space, quotes and brackets between sentences."""
    rng = random.Random(seed)
    pool = [
        YEAR,
        REPEAT,
        GLOW,
        SHED,
        '"Radium was discovered by the Curies," the paper said.',
        "Marie Curie (born in Warsaw) discovered radium and polonium.",
        "It was announced on 26 December 1898 to the academy!",
        "Was radium discovered before polonium?",
    ]
    seps = [" ", "  ", "\n", "\n\n", " \t "]
    out = []
    for i in range(4):
        sentences = rng.sample(pool, rng.randint(1, 5))
        text = rng.choice(["", " ", "\n"]) + "".join(s + rng.choice(seps) for s in sentences)
        out.append(Passage(f"p{i}", text.rstrip() if rng.random() < 0.5 else text, f"T{i}"))
    return out


@pytest.mark.parametrize("seed", range(25))
def test_offsets_point_at_exactly_the_text(embed: BowEmbedder, seed: int) -> None:
    passages = _messy_passages(seed)
    cfg = replace(ALL, max_sentences=8, per_passage=3, duplicate_overlap=1.0)
    selection = select_evidence(QUESTION, passages, embed=embed.encode, config=cfg)
    assert selection.evidence
    for e in selection.evidence:
        text = passages[e.passage - 1].text
        assert text[e.start : e.end] == e.text
        # a whole sentence, as punkt splits it, without the spaces around it
        assert e.text in [s.strip() for s in split_sentences(text)]


def test_offsets_of_a_later_sentence() -> None:
    text = f"  {GLOW}\n\n{YEAR}  "
    (e,) = select_evidence(QUESTION, [Passage("p", text)], config=replace(ALL, max_sentences=1)).evidence
    assert (e.passage, e.start, e.end, e.text) == (1, 2 + len(GLOW) + 2, 2 + len(GLOW) + 2 + len(YEAR), YEAR)


# ---------------------------------------------------------------- fragments


def test_fragments_where_a_passage_was_cut_are_never_evidence() -> None:
    # a passage cut out of longer text: it starts mid-sentence and ends mid-sentence
    cut = Passage(
        "cut", f"was discovered in a shed by the couple. {YEAR} Radium was discovered by Marie Curie and", "Radium"
    )
    selection = select_evidence(QUESTION, [cut], config=ALL)
    assert texts(selection) == [YEAR]
    # only fragments: they show the passage is on topic (relevance 0.5: radium and discovered)
    # but nothing can be quoted, so the passages do not answer
    only = Passage("only", "was discovered in a shed. Radium was discovered by Marie Curie and", "Radium")
    none = select_evidence(QUESTION, [only], config=replace(ALL, min_relevance=0.1))
    assert (none.evidence, none.answered, none.relevance) == ((), False, pytest.approx(0.5))
    assert is_fragment("was discovered in a shed.") and is_fragment("Radium was discovered by")
    assert not is_fragment(YEAR) and not is_fragment('"Radium" glows.')
    # the rest of a sentence cut at the passage's start, behind a bracket or quote
    assert is_fragment("(by the President) to either house of Parliament are referred to as MPs.")
    # punkt ends a sentence on "e.g." before the example it introduces
    assert is_fragment("Gnuplot reads a few binary file types that are self-describing, e.g.")
    assert not is_fragment("Gnuplot reads binary files, e.g. PNG images.")
    assert is_fragment('"the song was a hit," he said.') and not is_fragment("(Radium) was found in 1898.")


def test_a_sentence_cut_at_the_passage_start_behind_a_capitalised_name_is_not_evidence() -> None:
    question = "Who played Gaston in Beauty and the Beast?"
    cast = "Beast, Ben Harlow as Gaston, and Susan Egan as Belle starred in the show."
    film = "Luke Evans played Gaston in the 2017 film."
    musical = Passage("m", f"{cast} {film} Beast, the prince, is cursed.", "Beauty and the Beast (musical)")
    cands = candidate_evidence([musical], 4)
    assert [cut_at_start(c, musical) for c in cands] == [True, False, False]  # only the first piece
    selection = select_evidence(question, [musical], config=ALL)
    assert cast not in texts(selection) and film in texts(selection)
    # an article's own opening, and a sentence adverb, are whole sentences
    article = Passage("a", "Phidias, or Pheidias (about 480-430 BC) was a Greek sculptor who made a statue.", "Phidias")
    adverb = Passage("b", "However, Ben Harlow played Gaston on Broadway in 1994.", "Ben Harlow")
    ly = Passage("c", "Musically, the show follows the 1991 film closely.", "Beauty and the Beast (musical)")
    # an appositive closed by a comma and a verb: the sentence goes on
    appositive = Passage("d", "Leucippus, the founder of atomism, was the greatest influence upon him.", "Democritus")
    for passage in (article, adverb, ly, appositive):
        assert not cut_at_start(candidate_evidence([passage], 4)[0], passage)
    # a relative clause after the name, or an appositive going on with no verb: cut
    relative = Passage("e", "Roode, who defeated Jinder Mahal in the final on January 16, 2018.", "Clash of Champions")
    listed = Passage("f", "Mehta, the leader of the Congress, in April 1913, which played a part.", "Bombay")
    for passage in (relative, listed):
        assert cut_at_start(candidate_evidence([passage], 4)[0], passage)


@pytest.mark.parametrize(
    ("sentence", "fragment"),
    [
        ("5/1976) and Denise Welch (No.", True),  # a closing bracket first
        ("Toilet: Ek Prem Katha (transl.", True),  # an opening one never closed
        ("It was Springfield's only British No.", True),  # punkt split "No. 1"
        ("The events take place between Shinobi 20 and 21. was released in Japan in 2016.", True),
        ("Radium (Ra) was discovered in 1898 (by the Curies).", False),
        ("No one saw it happen in 1898.", False),
        ("He won in 2004. The next year he lost.", False),  # a capital after the number: not glued
        ("(), is a South Korean television series.", True),  # a name in another script cut out
        ('2" aired on SBS from 2016 to 2017.', True),  # the end of a quoted title
        (", is a feature film released in 2016.", True),
        ('", sung by Vanessa Williams, was written by David Foster.', True),
        ("(Buena Vista Street), Anaheim's Downtown Disney, and Disney Village.", True),
        ("(Radium) was found in 1898.", False),
    ],
)
def test_what_punkts_mistakes_leave_is_a_fragment(sentence: str, fragment: bool) -> None:
    assert is_fragment(sentence) is fragment


def test_a_sentence_punkt_splits_after_no_is_one_piece_of_evidence() -> None:
    text = 'It was her only British No. 1 hit, "You Don\'t Have to Say You Love Me". She sang it in 1966.'
    passage = Passage("p", text, "Dusty Springfield")
    selection = select_evidence("Who sang You Don't Have to Say You Love Me?", [passage], config=ALL)
    assert [e.text for e in selection.evidence] == [
        'It was her only British No. 1 hit, "You Don\'t Have to Say You Love Me".',
        "She sang it in 1966.",
    ]
    assert all(text[e.start : e.end] == e.text for e in selection.evidence)
    assert is_fragment("The events take place between Shinobi 42 and 43. , is a feature film.")


def test_a_sentence_punkt_splits_after_mt_is_one_piece_of_evidence() -> None:
    text = "Into Thin Air: A Personal Account of the Mt. Everest Disaster is a 1997 book. It sold well."
    passage = Passage("p", text, "Into Thin Air")
    selection = select_evidence("Who wrote Into Thin Air?", [passage], config=ALL)
    assert selection.evidence[0].text == (
        "Into Thin Air: A Personal Account of the Mt. Everest Disaster is a 1997 book."
    )
    assert is_fragment("It is a personal account of the Mt.") and not is_fragment("He climbed Everest.")


# ---------------------------------------------------------------- headings, markup, lists, lines


def _pieces(title: str, text: str) -> list[str]:
    """Every quotable piece of every sentence, checked to be the passage's own characters."""
    passage = Passage("p", text, title)
    out = []
    for span in sentence_spans(text):
        for start, end in clean_spans(passage, *span):
            out.append(text[start:end])
    return out


def test_a_title_repeated_as_a_heading_is_not_quoted() -> None:
    # at the passage's start, and where a new page starts inside a passage
    text = (
        "Robert Koch Heinrich Hermann Robert Koch was a German physician. He won a prize. "
        "Robert Koch Robert Koch discovered the anthrax bacillus."
    )
    assert _pieces("Robert Koch", text) == [
        "Heinrich Hermann Robert Koch was a German physician.",
        "He won a prize.",
        "Robert Koch discovered the anthrax bacillus.",
    ]
    # a title that begins the sentence is part of it: the text after it does not open a sentence,
    # or does not name the title again
    assert title_heading("Paris Hilton", "Paris Hilton is an American media personality.") == 0
    assert title_heading("Paris", "Paris Hilton is an American media personality.") == 0
    assert title_heading("Paris", "Paris Paris is the capital of France.") == len("Paris ")
    assert title_heading("", "Paris is the capital.") == 0


def test_wiki_headings_split_sentences_and_are_never_quoted() -> None:
    text = (
        "It has a home button. == 3G version == On June 9, 2008, Apple announced a 3G version. "
        "Early life === He was born in Ulm in 1879."
    )
    assert _pieces("iPhone", text) == [
        "It has a home button.",
        "On June 9, 2008, Apple announced a 3G version.",
        "Early life",
        "He was born in Ulm in 1879.",
    ]


def test_markup_is_cut_from_a_sentence_start_and_a_sentence_holding_more_is_dropped() -> None:
    text = (
        "200px|right The Alliance Party is a liberal party. <onlyinclude></onlyinclude> On Friday it won. "
        'The schedule was released in June.<ref name="x"/> Fans cheered. Tables use | as a separator.'
    )
    # image options with a caption: the caption's first word is left, so the rest is a fragment
    assert _pieces("Armour", "thumb|300px|16th century armour Armour is a protective covering.") == [
        "century armour Armour is a protective covering."
    ]
    # punkt does not split after the tag, so "Fans cheered." goes with the sentence holding it
    assert _pieces("Alliance Party", text) == ["The Alliance Party is a liberal party.", "On Friday it won."]


def test_evidence_from_a_page_with_a_heading_and_markup_points_at_its_own_characters() -> None:
    passage = Passage(
        "p",
        "Radium Radium was discovered by Marie Curie in 1898. == Uses == alt=|right Radium was used in paint.",
        "Radium",
    )
    selection = select_evidence(QUESTION, [passage], config=ALL)
    assert sorted(e.text for e in selection.evidence) == [
        "Radium was discovered by Marie Curie in 1898.",
        "Radium was used in paint.",
    ]
    assert all(passage.text[e.start : e.end] == e.text for e in selection.evidence)


def test_a_title_repeated_in_quotes_or_after_a_line_break_is_cut_every_time() -> None:
    title = "Give Me a Home Among the Gumtrees"
    text = (
        f'"{title} " {title} {title} (or Home Among the Gumtrees) is an Australian song written in 1974. '
        f"{title}\n{title} was first recorded in 1975."
    )
    assert _pieces(title, text) == [
        f"{title} (or Home Among the Gumtrees) is an Australian song written in 1974.",
        f"{title} was first recorded in 1975.",
    ]
    # a quoted title that the sentence goes on about is a heading; one it does not name again is not
    assert title_heading("Radium", '"Radium" Radium is a metal.') == len('"Radium" ')
    assert title_heading("Radium", '"Radium" is a song.') == 0
    # a title followed by a sentence that opens on "The": a heading, though the sentence does
    # not name the title again
    title = "United States hydrogen policy"
    sentence = f"{title} The principle of a fuel cell was discovered in 1838."
    assert sentence[title_heading(title, sentence) :] == "The principle of a fuel cell was discovered in 1838."
    assert title_heading("Anne", "Anne The Queen was crowned.") == len("Anne ")
    assert title_heading("Anne", "Anne Boleyn was crowned.") == 0
    assert title_heading("Hepatitis", "Hepatitis A is a liver disease.") == 0


def test_list_items_are_pieces_of_their_own_without_their_markers() -> None:
    text = (
        "The main events were these: * John Cena beat AJ Styles for the WWE Championship. "
        '== Track listing == #"This Is Me... Now" #"To Be Yours" # "Mad in Love" The album reached #1 in May.'
    )
    assert _pieces("Events", text) == [
        "The main events were these:",
        "John Cena beat AJ Styles for the WWE Championship.",
        '"This Is Me... Now"',
        '"To Be Yours"',
        '"Mad in Love" The album reached #1 in May.',
    ]


def test_a_line_break_ends_a_piece() -> None:
    # a new page inside a passage ("Gamora\nevent …" is the rest of a cut sentence, so a fragment),
    # and a list of roles, one a line
    text = (
        "Gamora first appeared in 1975. Gamora\nevent, and became a member of the team. "
        "Park Hye-su (season 1) as Yoo Eun-jae\nA 20-year-old student who comes to the house."
    )
    assert _pieces("Gamora", text) == [
        "Gamora first appeared in 1975.",
        "Gamora",
        "event, and became a member of the team.",
        "Park Hye-su (season 1) as Yoo Eun-jae",
        "A 20-year-old student who comes to the house.",
    ]
    evidence = select_evidence(
        "Who plays Gamora?", [Passage("p", text, "Gamora")], config=replace(ALL, per_passage=4)
    ).evidence
    # the cut piece is never evidence; the role, a whole line of a list, can be
    assert sorted(e.text for e in evidence) == [
        "A 20-year-old student who comes to the house.",
        "Gamora first appeared in 1975.",
        "Park Hye-su (season 1) as Yoo Eun-jae",
    ]


def test_a_list_line_is_whole_but_a_leading_line_or_the_last_one_is_not() -> None:
    by_text = {c.text: c for c in candidate_evidence([RECORDS], 3)}
    line = by_text["Most own goals: 10, Richard Dunne"]
    assert is_fragment(line.text)  # no full stop: a fragment by the sentence rules alone
    assert is_list_line(line, RECORDS) and is_whole(line, RECORDS)
    leading = by_text["The leaders were:"]  # leads into the next line
    assert not is_list_line(leading, RECORDS) and not is_whole(leading, RECORDS)
    last = by_text["Most in a season: 4"]  # the passage ends there: it may be cut
    assert not is_list_line(last, RECORDS) and not is_whole(last, RECORDS)
    sentence = by_text["Premier League records."]
    assert is_whole(sentence, RECORDS)  # a sentence, whatever follows it
    lower = Passage("x", "Records kept\nand most own goals: 10, Richard Dunne\nEnd.", "x")
    assert not any(is_list_line(c, lower) for c in candidate_evidence([lower], 3) if c.text.startswith("and"))


def test_the_module_examples_hold() -> None:
    import rag.evidence.candidates

    run_doctests(rag.evidence.candidates)
