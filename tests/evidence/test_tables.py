"""Table rows as evidence (rag.evidence.tables, rag.evidence.quoting): a table as the HTML reader
writes one (a verbatim span, one row a line, cells joined by " | "), expected rows worked by hand."""

from __future__ import annotations

from rag.evidence import (
    EvidenceConfig,
    EvidenceSelection,
    evidence_passages,
    evidence_quote,
    is_whole,
    select_evidence,
    table_candidates,
)
from rag.types import Passage

INTRO = "The following table shows how type names map to affinities."
TABLE = (
    "Example Typenames | Resulting Affinity | Rule\n"
    "INT INTEGER TINYINT | INTEGER | 1\n"
    "REAL DOUBLE FLOAT | REAL | 4\n"
    "NUMERIC DECIMAL(10,5) BOOLEAN | NUMERIC | 5"
)
AFFINITY = Passage(
    id="a",
    title="Datatypes › Affinity Name Examples",
    text=f"{INTRO}\n{TABLE}",
    verbatim=((len(INTRO) + 1, len(INTRO) + 1 + len(TABLE)),),
)


def test_each_row_under_the_header_is_a_candidate_with_offsets_into_the_passage() -> None:
    rows = table_candidates([AFFINITY])
    assert [r.text for r in rows] == [
        "INT INTEGER TINYINT | INTEGER | 1",
        "REAL DOUBLE FLOAT | REAL | 4",
        "NUMERIC DECIMAL(10,5) BOOLEAN | NUMERIC | 5",
    ]
    assert all(AFFINITY.text[r.start : r.end] == r.text for r in rows)
    assert {r.header for r in rows} == {"Example Typenames | Resulting Affinity | Rule"}
    assert all(is_whole(r, AFFINITY) for r in rows)


def test_a_row_is_quoted_and_shown_with_its_header() -> None:
    row = table_candidates([AFFINITY])[1]
    quote = "Example Typenames: REAL DOUBLE FLOAT; Resulting Affinity: REAL; Rule: 4."
    assert evidence_quote(row) == quote
    reduced, numbers = evidence_passages([AFFINITY], EvidenceSelection((row,), 1.0, True))
    assert numbers == [1] and reduced[0].text == quote[:-1]


def test_a_block_with_a_pipe_in_one_line_is_no_table() -> None:
    code = "cat notes.txt | wc -l\nls -l"
    p = Passage(id="c", title="Shell", text=code, verbatim=((0, len(code)),))
    assert table_candidates([p]) == []


def test_the_row_that_answers_is_chosen() -> None:
    # the packaged sentence encoder and the learned scorer, as the pipeline chooses
    from rag.indexing.dense import Embedder

    question = "What affinity does a column declared DOUBLE or FLOAT get?"
    chosen = select_evidence(question, [AFFINITY], embed=Embedder().encode, config=EvidenceConfig(min_words=3))
    assert chosen.evidence[0].text == "REAL DOUBLE FLOAT | REAL | 4"
