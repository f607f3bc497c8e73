"""Junk that must not reach a user: a sentence cut off by the token limit, a repeated sentence.

Both are checked on the parsed statements before attribution, so a cut-off or repeated sentence
is never cited, shown or counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.text import content_words, ends_dangling, is_cut_off, words
from rag.types import Statement


@dataclass(frozen=True)
class Cleaned:
    """The statements kept, and those dropped as cut off or as repeats of an earlier one."""

    statements: tuple[Statement, ...]
    cut_off: tuple[Statement, ...]
    repeated: tuple[Statement, ...]


def is_repeat(statement: Statement, earlier: Sequence[Statement], overlap: float = 0.8) -> bool:
    """True when ``statement`` shares at least ``overlap`` of its content words (Jaccard) with an
    earlier statement, or its words are all among one earlier statement's words."""
    bag = content_words(statement.text)
    if not bag:  # nothing but stop words: only an exact copy is a repeat
        return any(words(statement.text) == words(prev.text) for prev in earlier)
    for prev in earlier:
        other = content_words(prev.text)
        if bag <= other or len(bag & other) / len(bag | other) >= overlap:
            return True
    return False


def drop_junk(statements: Sequence[Statement], *, truncated: bool, overlap: float = 0.8) -> Cleaned:
    """``statements`` without the cut-off ones and the repeats.

    A statement is cut off when it ends on a word no sentence ends on or on a colon (what it
    introduces is missing); the last one also when the generation stopped at its token limit
    (``truncated``) without closing the sentence. A repeat is a statement whose content words
    (near-)duplicate an earlier kept one (:func:`is_repeat`).
    """
    kept: list[Statement] = []
    cut: list[Statement] = []
    repeated: list[Statement] = []
    for i, st in enumerate(statements):
        last = i == len(statements) - 1
        if ends_dangling(st.text) or st.text.rstrip(" .").endswith(":") or (last and truncated and is_cut_off(st.text)):
            cut.append(st)
        elif is_repeat(st, kept, overlap):
            repeated.append(st)
        else:
            kept.append(st)
    return Cleaned(tuple(kept), tuple(cut), tuple(repeated))
