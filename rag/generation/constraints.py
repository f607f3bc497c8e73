"""Constrained citing: a llama.cpp GBNF grammar that makes every sentence end with citations.

``citation_grammar(k)`` admits answers of 1 to ``max_sentences`` sentences, each written as
``<text> [n][m].`` (one to three markers) with every ``n`` in ``1..k``, sentences separated by
one space, nothing after the last one (the grammar then only lets the model stop), at most
``MAX_SENTENCE_CHARS`` characters of text per sentence. ``is_well_cited(text, k)`` is the same
language as a Python regular expression, for tests and for checking answers without a model.

Sentence text may not contain ``[``, ``]``, ``!``, ``?``, a newline or a full stop (not even a
decimal point): a full stop ends the sentence, so the model, wanting to end it, must cite first.
Measured on the 0.5B: allowing ``"." [0-9]`` let it write ``"....1986.1 [1][2][3][4][5][1]..."``
(a fake decimal to end the sentence, then markers until ``max_tokens``), hence no decimals and
at most three markers.
"""

from __future__ import annotations

import re

from rag.errors import RagError

__all__ = ["citation_grammar", "is_well_cited", "citation_pattern", "MAX_MARKERS", "MAX_SENTENCE_CHARS"]

#: At most this many ``[n]`` markers end one sentence.
MAX_MARKERS = 3
#: At most this many characters of text before a sentence's markers. Measured on the 0.5B:
#: without a cap, denied its full stop, it chained clauses with ", and" until ``max_tokens``.
MAX_SENTENCE_CHARS = 250


def _check(n_passages: int, max_sentences: int) -> None:
    if n_passages < 1:
        raise RagError(f"n_passages must be at least 1 to cite anything, got {n_passages}")
    if max_sentences < 1:
        raise RagError(f"max_sentences must be at least 1, got {max_sentences}")


def citation_grammar(n_passages: int, max_sentences: int = 4) -> str:
    """GBNF text for answers whose every sentence ends with citations ``[n]``, 1 <= n <= n_passages.

    1 to ``max_sentences`` sentences; pass it as ``GenerationConfig(grammar=...)``. Raises
    ``ValueError`` for ``n_passages < 1`` or ``max_sentences < 1``.
    """
    _check(n_passages, max_sentences)
    numbers = " | ".join(f'"{n}"' for n in range(n_passages, 0, -1))
    return "\n".join(
        [
            f'root ::= sentence (" " sentence){{0,{max_sentences - 1}}}',
            f'sentence ::= first rest{{0,{MAX_SENTENCE_CHARS - 1}}} cite{{1,{MAX_MARKERS}}} "."',
            r"first ::= [^\[\].!?\n ]",
            r"rest ::= [^\[\].!?\n]",
            f'cite ::= "[" ({numbers}) "]"',
            "",
        ]
    )


def citation_pattern(n_passages: int, max_sentences: int = 4) -> re.Pattern[str]:
    """The regular expression equivalent of ``citation_grammar`` (match with ``fullmatch``)."""
    _check(n_passages, max_sentences)
    numbers = "|".join(str(n) for n in range(n_passages, 0, -1))
    text = r"[^\[\].!?\n ][^\[\].!?\n]{0," + str(MAX_SENTENCE_CHARS - 1) + "}"
    sentence = text + r"(?:\[(?:" + numbers + r")\]){1," + str(MAX_MARKERS) + r"}\."
    return re.compile(sentence + r"(?: " + sentence + r"){0," + str(max_sentences - 1) + "}")


def is_well_cited(text: str, n_passages: int, max_sentences: int = 4) -> bool:
    """True if ``text`` is in the language of ``citation_grammar(n_passages, max_sentences)``.

    Every sentence must end with at least one in-range ``[n]`` right before its full stop.
    """
    return citation_pattern(n_passages, max_sentences).fullmatch(text) is not None
