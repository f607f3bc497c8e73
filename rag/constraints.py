"""Constrained citing: a llama.cpp GBNF grammar that makes every sentence end with citations.

``citation_grammar(k)`` admits answers of 1 to ``max_sentences`` sentences, each written as
``<text> [n][m].`` with every ``n`` in ``1..k``, sentences separated by one space, nothing after
the last one (the grammar then only lets the model stop). ``is_well_cited(text, k)`` is the same
language as a Python regular expression, for tests and for checking answers without a model.

Sentence text may not contain ``[``, ``]``, ``!``, ``?``, a newline, or a full stop other than a
decimal point (``2.5``): a full stop ends the sentence, so it must come after the citations.
"""

from __future__ import annotations

import re

__all__ = ["citation_grammar", "is_well_cited", "citation_pattern"]


def _check(n_passages: int, max_sentences: int) -> None:
    if n_passages < 1:
        raise ValueError(f"n_passages must be at least 1 to cite anything, got {n_passages}")
    if max_sentences < 1:
        raise ValueError(f"max_sentences must be at least 1, got {max_sentences}")


def citation_grammar(n_passages: int, max_sentences: int = 4) -> str:
    """GBNF text for answers whose every sentence ends with citations ``[n]``, 1 <= n <= n_passages.

    1 to ``max_sentences`` sentences; pass it as ``GenerationConfig(grammar=...)``. Raises
    ``ValueError`` for ``n_passages < 1`` or ``max_sentences < 1``.
    """
    _check(n_passages, max_sentences)
    numbers = " | ".join(f'"{n}"' for n in range(n_passages, 0, -1))
    return "\n".join(
        [
            f"root ::= sentence (\" \" sentence){{0,{max_sentences - 1}}}",
            'sentence ::= first rest* cite+ "."',
            r"first ::= [^\[\].!?\n ]",
            r'rest ::= [^\[\].!?\n] | "." [0-9]',
            f'cite ::= "[" ({numbers}) "]"',
            "",
        ]
    )


def citation_pattern(n_passages: int, max_sentences: int = 4) -> re.Pattern[str]:
    """The regular expression equivalent of ``citation_grammar`` (match with ``fullmatch``)."""
    _check(n_passages, max_sentences)
    numbers = "|".join(str(n) for n in range(n_passages, 0, -1))
    sentence = r"[^\[\].!?\n ](?:[^\[\].!?\n]|\.[0-9])*(?:\[(?:" + numbers + r")\])+\."
    return re.compile(sentence + r"(?: " + sentence + r"){0," + str(max_sentences - 1) + "}")


def is_well_cited(text: str, n_passages: int, max_sentences: int = 4) -> bool:
    """True if ``text`` is in the language of ``citation_grammar(n_passages, max_sentences)``.

    Every sentence must end with at least one in-range ``[n]`` right before its full stop.
    """
    return citation_pattern(n_passages, max_sentences).fullmatch(text) is not None
