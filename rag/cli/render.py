"""How ``rag ask`` shows an answer in a terminal: the text, the statements' verdicts, the sources."""

from __future__ import annotations

import textwrap

import typer

from rag.types import Answer, Passage, Statement

_MARKS = {"supported": "✓ supported", "unsupported": "✗ unsupported", "uncited": "· uncited"}
_COLORS = {"supported": typer.colors.GREEN, "unsupported": typer.colors.RED}


def _statements(statements: tuple[Statement, ...], strict: bool) -> None:
    if not any(st.verdict for st in statements):
        return
    typer.secho("\nStatements:", bold=True)
    for i, st in enumerate(statements, 1):
        mark = _MARKS.get(st.verdict or "", "")
        color = _COLORS.get(st.verdict or "", typer.colors.YELLOW)
        if strict and st.verdict != "supported":
            typer.secho(f"  {i}. [hidden: {mark}]", fg=color)
            continue
        typer.secho(f"  {i}. {mark}: {st.raw}", fg=color)


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
        typer.secho("\nThe answer cites no passage.", fg=typer.colors.YELLOW)
        return
    typer.secho("\nSources:", bold=True)
    for c in cites:
        p = c.passage
        snippet = textwrap.shorten(p.text, width=160, placeholder=" …")
        typer.echo(f"  [{c.number}] {source_line(p)}\n      {snippet}")


def _closest(answer: Answer, n: int = 3) -> None:
    typer.secho("\nThe closest passages (they do not answer it):", bold=True)
    for i, sp in enumerate(answer.passages[:n], 1):
        p = sp.passage
        snippet = textwrap.shorten(p.text, width=160, placeholder=" …")
        typer.echo(f"  {i}. {source_line(p)}\n      {snippet}")


def render_answer(answer: Answer, strict: bool, streamed: bool) -> None:
    """Print the answer (unless it was streamed), each statement's verdict, what was hidden, the
    cited sources, dropped citations and the timings; or, when no passage bore on the question,
    that plainly and the closest passages."""
    if not answer.answered:
        typer.secho(answer.text, fg=typer.colors.YELLOW)
        _closest(answer)
        return
    if strict:  # nothing was streamed: show only what the citations support
        kept = [st.raw for st in answer.statements if st.verdict == "supported"]
        typer.echo(" ".join(kept) if kept else "(no statement of the answer is supported by its citations)")
    elif not streamed:  # post-hoc citing / best-of-n: the final text is shown once made
        typer.echo(answer.text or "(no statement of the answer is supported by the passages)")
    if answer.quoted_fallback:
        typer.secho(
            "(Quoted from the passages: nothing the model wrote itself was supported by them.)",
            fg=typer.colors.YELLOW,
        )
    typer.echo("")
    _statements(answer.statements, strict)
    for st in answer.hidden:
        typer.secho(f"  hidden, not supported by any passage: {st.text}", fg=typer.colors.RED)
    _sources(answer)
    if answer.dropped_citations:
        dropped = ", ".join(f"[{n}]" for n in answer.dropped_citations)
        typer.secho(f"Dropped citations to passages that were not given: {dropped}", fg=typer.colors.YELLOW)
    t = answer.timings
    typer.secho(
        f"\n{answer.generator}: first token {t.get('time_to_first_token', 0):.1f} s, total {t.get('total', 0):.1f} s",
        dim=True,
    )
