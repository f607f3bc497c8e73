"""Statement splitting and citation parsing for answers with inline ``[n]`` markers.

Two readings of the markers live here:

* the project's robust reading (``parse_citations``, ``strip_citations``, ``parse_answer``), used on
  the pipeline's own answers: ``[1][2]``, ``[1, 2]``, ``[1-3]``, ``[1,3-4]``, ``[ 2 ]`` and
  ``[1] [2]`` all cite what a reader would expect, markers written after the full stop belong to the
  sentence before them, and numbers outside the given passages are reported as invalid;
* ALCE's exact reading (``alce_citation_numbers``, ``alce_remove_citations``), used when scoring
  in ALCE-exact mode: every ``[n`` is a citation (so ``[1, 2]`` is only [1]), duplicates kept.

Sentences are split by :func:`rag.text.split_sentences` (NLTK's English punkt model, shipped in the
package), as ALCE does with ``nltk.sent_tokenize``.
"""

from __future__ import annotations

import re

from rag.errors import RagError
from rag.text import split_sentences
from rag.types import Statement

#: A range wider than this inside one marker (``[1-500]``) is not read as a citation.
MAX_RANGE_SPAN = 100

_NUM_ITEM = r"\d+(?:\s*[-\u2013]\s*\d+)?"
# One bracketed marker whose content is a list of numbers / ranges: "[1]", "[ 2 ]", "[1, 3-4]".
_MARKER_RE = re.compile(r"\[\s*(" + _NUM_ITEM + r"(?:\s*[,;]\s*" + _NUM_ITEM + r")*)\s*\]")
# A run of markers, possibly separated by white space: "[1][2]", "[1] [2]".
_MARKER_RUN = r"\[\s*" + _NUM_ITEM + r"(?:\s*[,;]\s*" + _NUM_ITEM + r")*\s*\]"
_LEADING_MARKERS_RE = re.compile(r"^\s*((?:" + _MARKER_RUN + r"\s*)+)")
# Markers written right after a sentence end, followed by the next sentence, inside one NLTK
# sentence (NLTK does not split "France.[2] It is big." because no space follows the period).
_AFTER_STOP_RE = re.compile(r"(?<=[.!?])((?:\s*" + _MARKER_RUN + r")+)(?=\s+[\"'\u201c(]?[A-Z0-9])")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"\s+([.,;:!?])")
_ALCE_CITE_RE = re.compile(r"\[\d+")
_ALCE_CITE_SPACE_RE = re.compile(r" \[\d+")


def _expand_marker(content: str) -> list[int] | None:
    """Numbers in one marker's content ("1, 3-4" -> [1, 3, 4]); ``None`` if malformed."""
    numbers: list[int] = []
    for item in re.split(r"[,;]", content):
        bounds = [int(x) for x in re.split(r"[-\u2013]", item.strip())]
        if len(bounds) == 1:
            numbers.append(bounds[0])
            continue
        lo, hi = bounds
        if hi < lo or hi - lo > MAX_RANGE_SPAN:
            return None
        numbers.extend(range(lo, hi + 1))
    return numbers


def parse_citations(sentence: str, n_passages: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Read the citation markers of ``sentence`` robustly.

    Returns ``(valid, invalid)``: ``valid`` are the numbers in ``1..n_passages`` in order of first
    appearance without duplicates; ``invalid`` the other numbers (0 included), also in order and
    without duplicates. ``[1][2]``, ``[1, 2]``, ``[1-3]``, ``[1,3-4]``, ``[ 2 ]`` and ``[1] [2]`` are
    all understood; malformed markers (``[a]``, ``[]``, ``[1-]``, a reversed range ``[3-1]``, a range
    spanning more than ``MAX_RANGE_SPAN``) are not citations. ``n_passages`` must be >= 0.
    """
    if n_passages < 0:
        raise RagError(f"n_passages must be >= 0, got {n_passages}")
    valid: list[int] = []
    invalid: list[int] = []
    for match in _MARKER_RE.finditer(sentence):
        numbers = _expand_marker(match.group(1))
        if numbers is None:
            continue
        for n in numbers:
            target = valid if 1 <= n <= n_passages else invalid
            if n not in target:
                target.append(n)
    return tuple(valid), tuple(invalid)


def strip_citations(text: str) -> str:
    """Remove the citation markers (as ``parse_citations`` reads them) and the space before them.

    Also removes white space left before punctuation (``"Paris [1] ."`` -> ``"Paris."``), collapses
    runs of spaces and strips the ends. Malformed markers (``[a]``) are kept as text.
    """

    def _drop(match: re.Match[str]) -> str:
        return "" if _expand_marker(match.group(1)) is not None else match.group(0)

    out = re.sub(r"\s*" + _MARKER_RE.pattern, _drop, text)
    out = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", out)
    out = re.sub(r"[ \t]{2,}", " ", out)
    return out.strip()


def _is_marker_run(text: str) -> bool:
    m = _LEADING_MARKERS_RE.match(text)
    return m is not None and m.end() == len(text)


def _split_after_stop(sentence: str) -> list[str]:
    """Split "A.[2] B" inside one NLTK sentence into "A.[2]" and "B"."""
    pieces: list[str] = []
    start = 0
    for m in _AFTER_STOP_RE.finditer(sentence):
        pieces.append(sentence[start : m.end()])
        start = m.end()
    pieces.append(sentence[start:])
    return [p.strip() for p in pieces if p.strip()]


def parse_answer(text: str, n_passages: int) -> tuple[Statement, ...]:
    """Split an answer into ``Statement``s (robust citation reading, for the project's answers).

    Sentences come from ``split_sentences``; a run of markers written after the full stop
    (``"Paris is in France. [2] It is big."`` or ``"France.[2] It is big."``) is moved to the
    sentence before it. ``Statement.text`` is the sentence without markers, ``raw`` the sentence as
    written (with the moved markers appended), ``citations`` / ``invalid_citations`` as
    ``parse_citations`` reads them. Fragments that are empty or only markers (with no sentence to
    attach to) are dropped.
    """
    raws: list[str] = []
    for sentence in split_sentences(text):
        for piece in _split_after_stop(sentence):
            lead = _LEADING_MARKERS_RE.match(piece)
            if lead and raws:
                raws[-1] = raws[-1] + " " + lead.group(1).strip()
                piece = piece[lead.end() :].strip()
            if piece:
                raws.append(piece)
    statements: list[Statement] = []
    for raw in raws:
        clean = strip_citations(raw)
        if not clean or _is_marker_run(raw) or not re.search(r"\w", clean):
            continue
        valid, invalid = parse_citations(raw, n_passages)
        statements.append(Statement(text=clean, raw=raw, citations=valid, invalid_citations=invalid))
    return tuple(statements)


def alce_citation_numbers(sentence: str) -> list[int]:
    """Citation numbers as ALCE's eval.py reads them: every ``[n`` in order, duplicates kept.

    1-based as written (ALCE subtracts 1 to index its docs; ``[0]`` thus reaches its *last* doc,
    which ``rag.evaluation.metrics`` reproduces in ALCE-exact mode). ``"[1, 2]"`` gives ``[1]``;
    ``"[1][2][2]"`` gives ``[1, 2, 2]``. Not truncated to ``at_most_citations``.
    """
    return [int(m.group(0)[1:]) for m in _ALCE_CITE_RE.finditer(sentence)]


def alce_remove_citations(text: str) -> str:
    """ALCE's ``remove_citations``: drop `` [n`` then ``[n``, then every `` |`` and every ``]``.

    Kept byte-for-byte faithful, quirks included (any ``]`` in the text disappears; ``[1, 2]``
    becomes ``, 2``).
    """
    out = _ALCE_CITE_RE.sub("", _ALCE_CITE_SPACE_RE.sub("", text))
    return out.replace(" |", "").replace("]", "")
