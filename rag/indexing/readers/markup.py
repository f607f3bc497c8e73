"""The syntax of Markdown, reStructuredText and AsciiDoc: what a line is, and inline markup removed.

Contract: compiled patterns, constants and pure functions, no state. The line patterns each match
one whole line: ``FENCE`` (a ```` ``` ```` / ``~~~`` fence: indent, fence, info string), ``ATX``
(a ``#`` heading: marks, title), ``ADOC_HEADING`` and ``ADOC_DELIMITER`` (AsciiDoc ``=`` headings,
``----`` / ``....`` listing delimiters), ``ADORNMENT`` (a reST / setext under- or overline of one
repeated punctuation character), ``THEMATIC`` (a thematic break), ``BULLET`` and ``ORDERED`` (a
list item: indent, marker, content), ``PIPE_SEPARATOR``, ``GRID_BORDER`` and ``SIMPLE_BORDER``
(a Markdown pipe table's header separator, a reST grid table's ``+---+`` border, a reST simple
table's ``===  ===`` border), ``EXPLICIT``, ``DIRECTIVE``, ``FOOTNOTE`` and ``OPTION`` (reST
explicit markup, a directive: name, argument; a footnote: label, text; a directive's ``:option:``
line) and ``HTML_COMMENT``. ``CODE_DIRECTIVES``, ``DROPPED_DIRECTIVES`` and ``VERSION_DIRECTIVES``
sort reST directives by what their content becomes (code, nothing, a "New in version ..."
sentence). :func:`clean_rst` and :func:`clean_markdown` remove one text's inline markup (roles,
links, emphasis, literals / code spans, escapes), keeping literal and code span contents as written.
:func:`pipe_row`, :func:`grid_rows` and :func:`simple_rows` split a pipe-table line, a grid table and
a simple table into rows of stripped cell texts, inline markup left in. :func:`indent_width` counts
a line's leading spaces; :func:`dedent` removes the lines' common leading spaces, their trailing
spaces and the blank lines at both ends.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
ADOC_HEADING = re.compile(r"^(={1,6})[ \t]+(\S.*)$")
ADOC_DELIMITER = re.compile(r"^(-{4,}|\.{4,}|`{3,})\s*$")
ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")
THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
BULLET = re.compile(r"^(\s*)([-*+•‣◦])[ \t]+(\S.*)$")
ORDERED = re.compile(r"^(\s*)(\d{1,9}[.)]|#[.)]|\(\d{1,3}\)|\([a-z]\))[ \t]+(\S.*)$")
PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
GRID_BORDER = re.compile(r"^\s*\+(?:[-=]+\+)+\s*$")
SIMPLE_BORDER = re.compile(r"^\s*=+(?: +=+)+\s*$")
DIRECTIVE = re.compile(r"^\.\.[ \t]+([\w:+-]+)::(?:[ \t]+(.*))?$")
EXPLICIT = re.compile(r"^\.\.(?:[ \t]|$)")
FOOTNOTE = re.compile(r"^\.\.[ \t]+\[([#*]?[\w-]*)\][ \t]+(.*)$")
OPTION = re.compile(r"^:[\w-]+:(?:[ \t].*)?$")
HTML_COMMENT = re.compile(r"^\s*<!--")

CODE_DIRECTIVES = {
    "code-block",
    "code",
    "sourcecode",
    "productionlist",
    "doctest",
    "testcode",
    "testoutput",
    "parsed-literal",
}
DROPPED_DIRECTIVES = {
    "toctree", "index", "image", "include", "literalinclude", "raw", "highlight", "contents", "sectnum", "meta",
    "moduleauthor", "sectionauthor", "codeauthor", "currentmodule", "module", "autosummary", "automodule",
    "autoclass", "autofunction", "automethod", "autodata", "autoattribute", "tabularcolumns", "default-role",
    "default-domain", "role", "title", "header", "footer", "target-notes", "graphviz", "math", "only-html",
}  # fmt: skip
VERSION_DIRECTIVES = {
    "versionadded": "New in version {}.",
    "versionchanged": "Changed in version {}.",
    "deprecated": "Deprecated since version {}.",
    "deprecated-removed": "Deprecated since version {}.",
}

# reST inline markup.
_RST_ROLE_TARGET = re.compile(r":[\w:+.-]+:`([^`<]*?)\s*<[^`>]*>`")
_RST_ROLE = re.compile(r":([\w:+.-]+):`([^`]+)`")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`__?")
_RST_REF = re.compile(r"`([^`]+)`__?")
_RST_LITERAL = re.compile(r"``(.+?)``")
_RST_STRONG = re.compile(r"(?<![\w*])\*\*(\S(?:.*?\S)?)\*\*(?![\w*])")
_RST_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])")
_RST_FOOTNOTE_REF = re.compile(r"\s?\[(?:#\w*|\*|\d+)\]_")
_RST_INTERPRETED = re.compile(r"(?<![\w`])`([^`]+)`(?![\w`])")
# Markdown inline markup.
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_MD_CODE = re.compile(r"(`+)(.+?)\1")
_MD_STRONG = re.compile(r"(?<![\w*])\*\*(\S(?:.*?\S)?)\*\*(?![\w*])|(?<!\w)__(\S(?:.*?\S)?)__(?!\w)")
_MD_EMPHASIS = re.compile(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])|(?<!\w)_(\S(?:.*?\S)?)_(?!\w)")
_MD_STRIKE = re.compile(r"~~(\S(?:.*?\S)?)~~")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_CALLABLE_ROLES = {"func", "meth", "py:func", "py:meth", "c:func", "c:macro-func"}


def clean_rst(text: str) -> str:
    """reST inline markup removed: ``:ref:`text <target>``` → ``text``, ``:func:`zip``` → ``zip()``,
    ````x```` → ``x``, ``*emph*`` → ``emph``, ```text <url>`_`` → ``text``.

    >>> clean_rst("See :ref:`the guide <guide>`, :func:`zip`, ``x = 1`` and *this*.")
    'See the guide, zip(), x = 1 and this.'
    """
    literals: list[str] = []

    def keep(m: re.Match[str]) -> str:
        literals.append(m.group(1))
        return f"\x00{len(literals) - 1}\x00"

    text = _RST_LITERAL.sub(keep, text)
    text = _RST_ROLE_TARGET.sub(lambda m: m.group(1), text)

    def role(m: re.Match[str]) -> str:
        name, value = m.group(1), m.group(2).strip()
        value = value.lstrip("!")
        if value.startswith("~"):
            value = value[1:].rsplit(".", 1)[-1]
        if name in _CALLABLE_ROLES and not value.endswith(")"):
            value += "()"
        return value

    text = _RST_ROLE.sub(role, text)
    text = _RST_LINK.sub(lambda m: m.group(1), text)
    text = _RST_REF.sub(lambda m: m.group(1), text)
    text = _RST_FOOTNOTE_REF.sub("", text)
    text = _RST_STRONG.sub(lambda m: m.group(1), text)
    text = _RST_EMPHASIS.sub(lambda m: m.group(1), text)
    text = _RST_INTERPRETED.sub(lambda m: m.group(1), text)
    text = re.sub(r"(?<=\w)\\ ", "", text)  # "word\ s" joins
    return re.sub("\x00(\\d+)\x00", lambda m: literals[int(m.group(1))], text)


def clean_markdown(text: str) -> str:
    """Markdown inline markup removed: ``**b**`` → ``b``, ``[text](url)`` → ``text``, ```x``` → ``x``.

    >>> clean_markdown("A **bold** [link](http://x.org/a_(b)) with `code_*` and _it_.")
    'A bold link with code_* and it.'
    """
    spans: list[str] = []

    def keep(m: re.Match[str]) -> str:
        spans.append(m.group(2).strip() if m.group(2).strip() else m.group(2))
        return f"\x00{len(spans) - 1}\x00"

    text = _MD_CODE.sub(keep, text)
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _MD_REF_LINK.sub(lambda m: m.group(1), text)
    text = _MD_AUTOLINK.sub(lambda m: m.group(1), text)
    text = _MD_STRONG.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MD_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MD_STRIKE.sub(lambda m: m.group(1), text)
    text = _MD_ESCAPE.sub(lambda m: m.group(1), text)
    return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], text)


def indent_width(line: str) -> int:
    """The number of spaces the line starts with."""
    return len(line) - len(line.lstrip(" "))


def dedent(lines: list[str]) -> list[str]:
    """The lines with their common leading spaces removed, blank lines at both ends dropped."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return []
    margin = min(indent_width(line) for line in lines if line.strip())
    return [line[margin:].rstrip() for line in lines]


def pipe_row(line: str) -> list[str]:
    """A Markdown pipe table line's cells: outer pipes dropped, ``\\|`` read as a literal ``|``."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", s)]


def grid_rows(lines: list[str]) -> list[list[str]]:
    """A reST grid table's rows: the lines between ``+---+`` borders, cells joined by column."""
    border = lines[0].strip()
    cuts = [i for i, c in enumerate(border) if c == "+"]
    offset = indent_width(lines[0])
    rows: list[list[str]] = []
    current: list[list[str]] = []
    for line in lines[1:]:
        s = line[offset:].rstrip() if len(line) >= offset else line.strip()
        if GRID_BORDER.match(line):
            if current:
                rows.append([" ".join(part for part in cell if part) for cell in current])
            current = []
            continue
        cells = [s[a + 1 : b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]
        if not current:
            current = [[] for _ in cells]
        for i, cell in enumerate(cells[: len(current)]):
            current[i].append(cell)
    if current:
        rows.append([" ".join(part for part in cell if part) for cell in current])
    return rows


def simple_rows(lines: list[str]) -> list[list[str]]:
    """A reST simple table's rows: columns from the first ``===  ===`` border."""
    border = lines[0]
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", border)]
    rows: list[list[str]] = []
    for line in lines[1:]:
        if SIMPLE_BORDER.match(line) or not line.strip() or re.fullmatch(r"\s*[-\s]+", line):
            continue
        cells = []
        for i, (a, _b) in enumerate(spans):
            end = spans[i + 1][0] if i + 1 < len(spans) else len(line)
            cells.append(line[a:end].strip())
        if rows and not cells[0] and any(cells[1:]):  # a continuation line of the row above
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    return rows
