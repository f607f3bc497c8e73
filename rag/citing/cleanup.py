"""Junk that must not reach a user: a sentence cut off by the token limit, a repeated sentence.

Both are checked on the parsed statements before attribution, so a cut-off or repeated sentence
is never cited, shown or counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.citing.attribution import content_words
from rag.types import Statement

# Words a finished English sentence does not end on: an answer ending "... is the." was cut.
# (Most prepositions are left out: "the city she was born in." is finished; "found by." is not.)
_DANGLING = frozenset(
    "a an the and or but nor of by is are was were be been being has have had its their his her".split()
)
_END_RE = re.compile(r"[.!?][\"'\u201d\u2019)\]]*$")
_WORDS_RE = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True)
class Cleaned:
    """The statements kept, and those dropped as cut off or as repeats of an earlier one."""

    statements: tuple[Statement, ...]
    cut_off: tuple[Statement, ...]
    repeated: tuple[Statement, ...]


def is_cut_off(text: str) -> bool:
    """True when ``text`` does not end like a finished sentence: no closing ``.``, ``!`` or ``?``,
    or a last word such as "the", "of" or "is" before it.

    >>> is_cut_off("Radium was found in 1898."), is_cut_off("Radium was found in"), is_cut_off("It is the.")
    (False, True, True)
    """
    text = text.strip()
    return not _END_RE.search(text) or _ends_dangling(text)


def _ends_dangling(text: str) -> bool:
    words = _WORDS_RE.findall(text)
    return bool(words) and words[-1].lower() in _DANGLING


def is_repeat(statement: Statement, earlier: Sequence[Statement], overlap: float = 0.8) -> bool:
    """True when ``statement`` shares at least ``overlap`` of its content words (Jaccard) with an
    earlier statement, or its words are all among one earlier statement's words."""
    words = content_words(statement.text)
    if not words:  # nothing but stop words: only an exact copy is a repeat
        same = " ".join(_WORDS_RE.findall(statement.text.lower()))
        return any(same == " ".join(_WORDS_RE.findall(prev.text.lower())) for prev in earlier)
    for prev in earlier:
        other = content_words(prev.text)
        if words <= other or len(words & other) / len(words | other) >= overlap:
            return True
    return False


def drop_junk(statements: Sequence[Statement], *, truncated: bool, overlap: float = 0.8) -> Cleaned:
    """``statements`` without the cut-off ones and the repeats.

    A statement is cut off when it ends on a word no sentence ends on; the last one also when the
    generation stopped at its token limit (``truncated``) without closing the sentence. A repeat
    is a statement whose content words (near-)duplicate an earlier kept one (:func:`is_repeat`).
    """
    kept: list[Statement] = []
    cut: list[Statement] = []
    repeated: list[Statement] = []
    for i, st in enumerate(statements):
        last = i == len(statements) - 1
        if _ends_dangling(st.text) or (last and truncated and is_cut_off(st.text)):
            cut.append(st)
        elif is_repeat(st, kept, overlap):
            repeated.append(st)
        else:
            kept.append(st)
    return Cleaned(tuple(kept), tuple(cut), tuple(repeated))
