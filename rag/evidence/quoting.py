"""How a chosen piece of evidence reads: in the generator's prompt and quoted in the answer.

Contract: :func:`prompt_text` gives a piece as the prompt shows it (its text; a table row read
with its header) and :func:`evidence_quote` as the answer quotes it (prose less footnote markers
and with a full stop, :func:`rag.evidence.as_quote`; a code example as its introduction and the
code in backticks, :func:`rag.evidence.code.code_text`; a table row read with its header).
:func:`with_verbatim` puts prose, code and row candidates in one passage-and-text order.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.evidence.candidates import as_quote
from rag.evidence.code import code_text
from rag.evidence.config import Evidence
from rag.evidence.tables import row_text


def prompt_text(evidence: Evidence) -> str:
    """The piece as the generator is shown it: a table row read with its header
    (:func:`rag.evidence.tables.row_text`), anything else as it stands in its passage."""
    if evidence.header is not None:
        return row_text(evidence.text, evidence.header)
    return evidence.text


def evidence_quote(evidence: Evidence) -> str:
    """The piece as the answer quotes it (see the module doc).

    >>> evidence_quote(Evidence(1, 0, 13, "It rained.[2]", 0.0))
    'It rained.'
    >>> evidence_quote(Evidence(1, 0, 19, "LENGTH | 1000000000", 0.0, header="Limit | Default"))
    'Limit: LENGTH; Default: 1000000000.'
    """
    if evidence.code_start is not None:
        return code_text(evidence)
    if evidence.header is not None:
        return row_text(evidence.text, evidence.header) + "."
    return as_quote(evidence.text)


def with_verbatim(prose: Sequence[Evidence], verbatim: Sequence[Evidence]) -> list[Evidence]:
    """Prose candidates and code or row candidates in one passage-and-text order; a prose piece
    that starts where a code example starts (its introduction, which the example holds) gives way."""
    starts = {(c.passage, c.start) for c in verbatim}
    merged = [e for e in prose if (e.passage, e.start) not in starts] + list(verbatim)
    return sorted(merged, key=lambda e: (e.passage, e.start, e.end))
