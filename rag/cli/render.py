"""How ``rag ask`` shows an answer in a terminal: the text, the statements' verdicts, the sources.

Nothing from an index or a model reaches the terminal as it is: control characters (escape
sequences that could retitle the window, clear the screen or worse) are removed from everything
printed (:func:`safe`), also from an index built before readers removed them, and ``--json``
escapes them (:func:`safe_json`).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import typer

from rag.indexing.readers import clean_text
from rag.types import Answer, Passage, Statement

#: What JSON leaves as it is but a terminal may act on: C1 controls (U+009B starts an escape
#: sequence in some terminals), bidi and zero-width characters, line and paragraph separators.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def safe(text: str) -> str:
    """``text`` as it may be written to a terminal: no control characters but ``\\n`` and ``\\t``.

    >>> safe("Tea\\x1b]0;PWNED\\x07 is\\x1b[2J from China")
    'Tea is from China'
    """
    return clean_text(text)


def safe_json(value: Any) -> str:
    """``value`` as indented JSON that a terminal shows as it is: every control character and
    the invisible ones of :data:`_JSON_UNSAFE` escaped (``\\u001b``), other text as it is."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _echo(text: str, **style: Any) -> None:
    typer.secho(safe(text), **style)


_MARKS = {"supported": "✓ supported", "unsupported": "✗ unsupported", "uncited": "· uncited"}
_COLORS = {"supported": typer.colors.GREEN, "unsupported": typer.colors.RED}


def _statements(statements: tuple[Statement, ...], strict: bool) -> None:
    if not any(st.verdict for st in statements):
        return
    _echo("\nStatements:", bold=True)
    for i, st in enumerate(statements, 1):
        mark = _MARKS.get(st.verdict or "", "")
        color = _COLORS.get(st.verdict or "", typer.colors.YELLOW)
        if strict and st.verdict != "supported":
            _echo(f"  {i}. [hidden: {mark}]", fg=color)
            continue
        _echo(f"  {i}. {mark}: {st.raw}", fg=color)


def source_line(p: Passage) -> str:
    """How a source is named: its place in the file (``R-intro.pdf p. 14 › Simple manipulations``)
    when the passage knows it, else its title and file.

    >>> source_line(Passage("1", "…", "Tea", "notes/tea.txt"))
    'Tea (notes/tea.txt)'
    """
    if p.location is not None:
        return p.location.label()
    where = f" ({p.source})" if p.source else ""
    return f"{p.title or p.id}{where}"


def _sources(answer: Answer) -> None:
    cites = answer.citations
    if not cites:
        _echo("\nThe answer cites no passage.", fg=typer.colors.YELLOW)
        return
    _echo("\nSources:", bold=True)
    for c in cites:
        p = c.passage
        snippet = textwrap.shorten(p.text, width=160, placeholder=" …")
        _echo(f"  [{c.number}] {source_line(p)}\n      {snippet}")


def _closest(answer: Answer, n: int = 3) -> None:
    _echo("\nThe closest passages (they do not answer it):", bold=True)
    for i, sp in enumerate(answer.passages[:n], 1):
        p = sp.passage
        snippet = textwrap.shorten(p.text, width=160, placeholder=" …")
        _echo(f"  {i}. {source_line(p)}\n      {snippet}")


def _missing(answer: Answer) -> None:
    """Say which of the question's words no indexed document holds (an answer cannot be about them)."""
    if answer.missing_words:
        _echo(f"(No indexed document mentions: {', '.join(answer.missing_words)}.)", fg=typer.colors.YELLOW)


def render_answer(answer: Answer, strict: bool, streamed: bool) -> None:
    """Print the answer (unless it was streamed), the question's words no indexed document holds,
    each statement's verdict, what was hidden, the cited sources, dropped citations and the
    timings; or, when no passage bore on the question, that plainly and the closest passages."""
    if not answer.answered:
        _echo(answer.text, fg=typer.colors.YELLOW)
        _missing(answer)
        _closest(answer)
        return
    if strict:  # nothing was streamed: show only what the citations support
        kept = [st.raw for st in answer.statements if st.verdict == "supported"]
        _echo(" ".join(kept) if kept else "(no statement of the answer is supported by its citations)")
    elif not streamed:  # post-hoc citing: the final text is shown once made
        _echo(answer.text or "(no statement of the answer is supported by the passages)")
    if answer.quoted_fallback:
        _echo(
            "(Quoted from the passages: nothing the model wrote itself was supported by them.)",
            fg=typer.colors.YELLOW,
        )
    _missing(answer)
    _echo("")
    _statements(answer.statements, strict)
    for st in answer.hidden:
        _echo(f"  hidden, not supported by any passage: {st.text}", fg=typer.colors.RED)
    _sources(answer)
    if answer.dropped_citations:
        dropped = ", ".join(f"[{n}]" for n in answer.dropped_citations)
        _echo(f"Dropped citations to passages that were not given: {dropped}", fg=typer.colors.YELLOW)
    t = answer.timings
    _echo(
        f"\n{answer.generator}: first token {t.get('time_to_first_token', 0):.1f} s, total {t.get('total', 0):.1f} s",
        dim=True,
    )
