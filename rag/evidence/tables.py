"""Table rows as evidence: each row of a table, read with the table's header.

Contract: :func:`table_candidates` takes the passages and returns one candidate for each row of
every table (a ``verbatim`` span whose every line holds cells joined by `` | ``, as the readers
write tables) under its first line, the header, with ``header`` set to that line; the candidate's
text is the row alone, so ``passage.text[start:end] == text`` holds. :func:`row_text` reads a row
with its header ("Resulting Affinity: REAL"), as the prompt shows it and the answer quotes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evidence.config import Evidence
from rag.types import Passage

CELL = " | "


def is_table(block: str) -> bool:
    """Whether a verbatim block is a table: two lines or more, each with cells joined by `` | ``.

    >>> is_table("Name | Size\\nx | 1"), is_table("cat notes.txt | wc -l\\nls")
    (True, False)
    """
    lines = [line for line in block.split("\n") if line.strip()]
    return len(lines) >= 2 and all(CELL in line for line in lines)


def table_candidates(passages: Sequence[Passage], min_words: int = 1) -> list[Evidence]:
    """One candidate for each row (after the header) of each table in ``passages`` with at least
    ``min_words`` words, in passage and text order.

    >>> p = Passage(id="1", title="Limits", text="The limits:\\nLimit | Default\\nLENGTH | 1000000000",
    ...             verbatim=((12, 50),))
    >>> [(e.text, e.header) for e in table_candidates([p])]
    [('LENGTH | 1000000000', 'Limit | Default')]
    """
    out: list[Evidence] = []
    for n, p in enumerate(passages, 1):
        for a, b in sorted(p.verbatim):
            if not is_table(p.text[a:b]):
                continue
            header: str | None = None
            at = a
            for line in p.text[a:b].split("\n"):
                start, end = at, at + len(line)
                at = end + 1
                row = line.strip()
                if not row:
                    continue
                if header is None:
                    header = row
                    continue
                start += len(line) - len(line.lstrip())
                end -= len(line) - len(line.rstrip())
                if len(row.split()) >= min_words:
                    out.append(Evidence(n, start, end, row, 0.0, header=header))
    return out


def row_text(row: str, header: str) -> str:
    """A row read with its header: each cell after its column's name ("Resulting Affinity: REAL"),
    separated by semicolons; the cells alone when the counts differ.

    >>> row_text("LENGTH | 1000000000", "Limit | Default")
    'Limit: LENGTH; Default: 1000000000'
    >>> row_text("a | b | c", "One | Two")
    'a; b; c'
    """
    cells = [c.strip() for c in row.split(CELL)]
    names = [h.strip() for h in header.split(CELL)]
    if len(cells) != len(names):
        return "; ".join(cells)
    return "; ".join(f"{name}: {cell}" if name else cell for name, cell in zip(names, cells, strict=True))
