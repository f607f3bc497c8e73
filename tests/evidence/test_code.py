"""Code examples as evidence (rag.evidence.code): hand-made passages shaped as the readers write
them (code and tables as verbatim spans), expected candidates and quotes worked out by hand."""

from __future__ import annotations

from rag.evidence import (
    Evidence,
    EvidenceConfig,
    asks_how,
    candidate_evidence,
    code_candidates,
    evidence_quote,
    is_whole,
    select_evidence,
    with_code_bonus,
    with_verbatim,
)
from rag.types import Passage


def _passage(parts: list[tuple[str, bool]], title: str = "Manual") -> Passage:
    """A passage from (text, is_code) parts joined by line breaks, with the code parts as verbatim spans."""
    text, spans = "", []
    for part, code in parts:
        if text:
            text += "\n"
        if code:
            spans.append((len(text), len(text) + len(part)))
        text += part
    return Passage(id="p", title=title, text=text, verbatim=tuple(spans))


WAL = _passage(
    [
        ("A connection defaults to journal_mode=DELETE. To convert to WAL mode, use the following pragma:", False),
        ("PRAGMA journal_mode=WAL;", True),
        ("The pragma returns the new journal mode.", False),
    ]
)


def test_the_introducing_sentence_and_the_code_are_one_candidate() -> None:
    (c,) = code_candidates([WAL])
    assert c.text == "To convert to WAL mode, use the following pragma:\nPRAGMA journal_mode=WAL;"
    assert WAL.text[c.start : c.end] == c.text
    assert WAL.text[c.code_start : c.end] == "PRAGMA journal_mode=WAL;"
    assert is_whole(c, WAL)


def test_the_quote_puts_each_line_of_code_in_backticks() -> None:
    (c,) = code_candidates([WAL])
    assert evidence_quote(c) == "To convert to WAL mode, use the following pragma: `PRAGMA journal_mode=WAL;`."
    prose = Evidence(1, 0, 10, "It rained.[2]", 0.0)
    assert evidence_quote(prose) == "It rained."


def test_a_sentence_going_on_into_its_block_introduces_it() -> None:
    # PDF manuals write "use the R command" with the command on the next line and no colon
    p = _passage([("To set up a vector x, use the R command", False), ("> x <- c(10.4, 5.6)", True)])
    (c,) = code_candidates([p])
    assert evidence_quote(c) == "To set up a vector x, use the R command `> x <- c(10.4, 5.6)`."


def test_a_caption_line_introduces_its_block() -> None:
    caption = _passage([("Compute the current date.", False), ("SELECT date('now');", True)])
    (c,) = code_candidates([caption])
    assert evidence_quote(c) == "Compute the current date. `SELECT date('now');`."


def test_no_candidate_without_an_introduction_or_for_a_table() -> None:
    in_paragraph = _passage([("Pragmas set options. Here is the pragma.", False), ("PRAGMA x;", True)])
    long_caption = _passage([(" ".join(["word"] * 21) + ".", False), ("PRAGMA x;", True)])
    question = _passage([("Which pragma is it?", False), ("PRAGMA x;", True)])
    first = _passage([("PRAGMA x;", True), ("It sets x.", False)])
    table = _passage([("The limits are:", False), ("Limit | Default\nLENGTH | 1000000000", True)])
    assert code_candidates([in_paragraph, long_caption, question, first, table]) == []
    piped = _passage([("To count the lines:", False), ("cat notes.txt | wc -l\nls", True)])
    assert [c.text for c in code_candidates([piped])] == ["To count the lines:\ncat notes.txt | wc -l\nls"]


def test_a_long_block_is_cut_to_its_first_lines() -> None:
    block = "\n".join(f"set option{i} value" for i in range(10))
    p = _passage([("Examples:", False), (block, True)])
    (c,) = code_candidates([p])
    assert c.text == "Examples:\nset option0 value\nset option1 value\nset option2 value"
    too_wide = _passage([("Syntax:", False), ("x" * 300, True)])
    assert code_candidates([too_wide]) == []


def test_the_prose_piece_inside_a_code_candidate_gives_way_to_it() -> None:
    prose = candidate_evidence([WAL], 3)
    code = code_candidates([WAL], 3)
    merged = with_verbatim(prose, code)
    assert [e.code_start is not None for e in merged] == [False, True, False]
    assert merged[0].text == "A connection defaults to journal_mode=DELETE."


def test_how_questions_and_the_bonus() -> None:
    assert asks_how("How can I make SQLite enforce types?")
    assert asks_how("What command saves a plot?")
    assert not asks_how("What is the default page size?")
    (c,) = code_candidates([WAL])
    prose = Evidence(1, 0, 10, "A connection defaults to journal_mode=DELETE.", 0.0)
    assert with_code_bonus([-1.0, 0.0], [c, prose], "How do I switch to WAL?", 2.0) == [1.0, 0.0]
    assert with_code_bonus([-1.0, 0.0], [c, prose], "Is WAL persistent?", 2.0) == [-1.0, 0.0]


def test_a_how_question_chooses_the_code_example() -> None:
    # lexical relevance alone (no embedder): the pragma's introduction shares the question's words
    chosen = select_evidence("How do I convert a database to WAL mode?", [WAL], config=EvidenceConfig(min_words=3))
    assert chosen.evidence[0].code_start is not None
    no_bonus = select_evidence(
        "How do I convert a database to WAL mode?", [WAL], config=EvidenceConfig(min_words=3, code_bonus=0.0)
    )
    assert [e.code_start for e in chosen.evidence] != [e.code_start for e in no_bonus.evidence]
