"""A text file's lines split into blocks, in one pass: the body of :mod:`rag.indexing.readers.text`.

Contract: :func:`split_blocks` takes the lines (tabs expanded, line ends removed) and the flavor
(``md``, ``rst``, ``adoc`` or ``plain``) and returns the blocks in file order, as the text
reader's contract lists them: headings (reST adornment styles levelled in order of first
appearance, Markdown setext ``=`` 1 and ``-`` 2, ATX and AsciiDoc by their marks), code (fences,
indented code in Markdown and plain text, reST literal blocks after ``::``, code directives and
doctest blocks, AsciiDoc listings: lines kept, common indentation removed), list items (an item's
wrapped lines joined), tables (one row a line, cells joined by ``" | "``) and paragraphs (lines
joined with a space, a line-end hyphen before a lower-case word kept). Inline markup is removed by
flavor from headings, paragraphs, list items and cells, never from code, and their whitespace is
collapsed; empty ones are left out. reST explicit markup: version directives become a sentence
("New in version 3.2."), ``rubric`` its text, ``csv-table`` a table, dropped directives (toctree,
image, ...), comments and targets nothing, footnotes a paragraph, any other directive its argument
and its content read as text. Markdown HTML comments, thematic breaks and AsciiDoc attribute lines
are dropped; Markdown block quotes are read as paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.indexing.readers.base import Block, BlockKind
from rag.indexing.readers.markup import (
    ADOC_DELIMITER,
    ADOC_HEADING,
    ADORNMENT,
    ATX,
    BULLET,
    CODE_DIRECTIVES,
    DIRECTIVE,
    DROPPED_DIRECTIVES,
    EXPLICIT,
    FENCE,
    FOOTNOTE,
    GRID_BORDER,
    HTML_COMMENT,
    OPTION,
    ORDERED,
    PIPE_SEPARATOR,
    SIMPLE_BORDER,
    THEMATIC,
    VERSION_DIRECTIVES,
    clean_markdown,
    clean_rst,
    dedent,
    grid_rows,
    indent_width,
    pipe_row,
    simple_rows,
)


def _join_lines(lines: list[str]) -> str:
    """Hard-wrapped lines as one paragraph: joined with a space, a line-end hyphen joined as is."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
        elif re.search(r"[A-Za-z]-$", out) and line[:1].islower():
            out += line
        else:
            out += " " + line
    return out


@dataclass
class _Parser:
    flavor: str
    blocks: list[Block] = field(default_factory=list)
    styles: list[tuple[str, bool]] = field(default_factory=list)

    # ---------------------------------------------------------------- emitting

    def clean(self, text: str) -> str:
        if self.flavor == "rst":
            text = clean_rst(text)
        elif self.flavor == "md":
            text = clean_markdown(text)
        return " ".join(text.split())

    def emit(self, kind: BlockKind, text: str, level: int = 0) -> None:
        if kind in ("text", "list", "heading"):
            text = self.clean(text)
        if text.strip():
            self.blocks.append(Block(kind, text, level=level))

    def heading_level(self, char: str, overline: bool) -> int:
        if self.flavor == "md" and not overline:
            return 1 if char == "=" else 2
        style = (char, overline)
        if style not in self.styles:
            self.styles.append(style)
        return min(self.styles.index(style) + 1, 6)

    def paragraph(self, lines: list[str]) -> bool:
        """Emit a paragraph; ``True`` when it ends with reST's ``::`` (a literal block follows)."""
        text = _join_lines(lines)
        literal = self.flavor in ("rst", "plain") and text.endswith("::")
        if literal:
            text = text[:-2].rstrip() if (text == "::" or text.endswith(" ::")) else text[:-1]
        self.emit("text", text)
        return literal

    def table(self, rows: list[list[str]]) -> None:
        cleaned = [[self.clean(cell) for cell in row] for row in rows]
        lines = [" | ".join(row) for row in cleaned if any(cell for cell in row)]
        if lines:
            self.blocks.append(Block("table", "\n".join(lines)))

    # ---------------------------------------------------------------- the document

    def parse(self, lines: list[str]) -> None:  # noqa: C901 - one pass over the lines, case by case
        n = len(lines)
        i = 0
        para: list[str] = []
        para_indent = 0
        literal_next = False
        last_list_indent = -1

        def flush() -> None:
            nonlocal para, literal_next
            if para:
                literal_next = self.paragraph(para)
            para = []

        while i < n:
            line = lines[i]
            s = line.strip()
            indent = indent_width(line)
            nxt = lines[i + 1] if i + 1 < n else ""

            if not s:
                flush()
                i += 1
                continue

            if last_list_indent > 0 and indent < last_list_indent and not para and not BULLET.match(line):
                last_list_indent = -1

            # reST literal block after "::": the indented lines that follow
            if literal_next and not para:
                literal_next = False
                prev_indent = para_indent
                if indent > prev_indent:
                    j = i
                    while j < n and (not lines[j].strip() or indent_width(lines[j]) > prev_indent):
                        j += 1
                    self.blocks.append(Block("code", "\n".join(dedent(lines[i:j]))))
                    i = j
                    continue
            literal_next = False

            # HTML comments (Markdown)
            if self.flavor == "md" and HTML_COMMENT.match(line):
                flush()
                j = i
                while j < n and "-->" not in lines[j]:
                    j += 1
                i = j + 1
                continue

            # fenced code
            m = FENCE.match(line)
            if m and not (m.group(2)[0] == "`" and "`" in m.group(3)):
                flush()
                fence = m.group(2)
                j = i + 1
                body: list[str] = []
                while j < n and not (
                    lines[j].strip().startswith(fence[0] * len(fence)) and not lines[j].strip().strip(fence[0])
                ):
                    body.append(lines[j][len(m.group(1)) :] if lines[j][: len(m.group(1))].isspace() else lines[j])
                    j += 1
                code = "\n".join(x.rstrip() for x in body).strip("\n")
                if code.strip():
                    self.blocks.append(Block("code", code))
                i = j + 1
                continue

            # AsciiDoc headings and delimited blocks
            if self.flavor == "adoc":
                m = ADOC_HEADING.match(line)
                if m and not para:
                    self.emit("heading", m.group(2), level=len(m.group(1)))
                    i += 1
                    continue
                m = ADOC_DELIMITER.match(line)
                if m and not para:
                    j = i + 1
                    while j < n and lines[j].strip() != m.group(1):
                        j += 1
                    code = "\n".join(x.rstrip() for x in lines[i + 1 : j]).strip("\n")
                    if code.strip():
                        self.blocks.append(Block("code", code))
                    i = j + 1
                    continue
                if re.match(r"^\[[\w.#%,=\"' -]*\]$", s) or re.match(r"^:[\w-]+:", s):
                    flush()
                    i += 1
                    continue

            # Markdown ATX headings (they may interrupt a paragraph)
            if self.flavor in ("md", "plain"):
                m = ATX.match(line)
                if m and (self.flavor == "md" or (m.group(2) and len(m.group(1)) <= 3 and not para)):
                    flush()
                    self.emit("heading", m.group(2) or "", level=len(m.group(1)))
                    i += 1
                    continue

            # overlined and underlined headings
            if not para and ADORNMENT.match(line) and i + 2 < n and lines[i + 1].strip():
                under = lines[i + 2].strip()
                title = lines[i + 1].strip()
                if under == s and len(s) >= len(title) - 1 and not ADORNMENT.match(title):
                    self.emit("heading", title, level=self.heading_level(s[0], True))
                    i += 3
                    continue
            if (
                not para
                and self.flavor != "adoc"
                and ADORNMENT.match(nxt)
                and not ADORNMENT.match(line)
                and len(nxt.strip()) >= min(len(s), 3)
                and indent < 4
                and not BULLET.match(line)
                and not (self.flavor == "md" and nxt.strip()[0] not in "=-")
                and not SIMPLE_BORDER.match(nxt)
            ):
                self.emit("heading", s, level=self.heading_level(nxt.strip()[0], False))
                i += 2
                continue

            # tables
            if GRID_BORDER.match(line) and not para:
                j = i + 1
                while j < n and lines[j].strip()[:1] in ("+", "|"):
                    j += 1
                self.table(grid_rows(lines[i:j]))
                i = j
                continue
            if SIMPLE_BORDER.match(line) and not para and self.flavor != "md":
                j, borders = i + 1, 1
                while j < n:
                    if SIMPLE_BORDER.match(lines[j]):
                        borders += 1
                        if borders >= 3 or (borders == 2 and (j + 1 >= n or not lines[j + 1].strip())):
                            j += 1
                            break
                    j += 1
                self.table(simple_rows(lines[i:j]))
                i = j
                continue
            if "|" in s and PIPE_SEPARATOR.match(nxt) and "-" in nxt and not para:
                j = i + 2
                rows = [pipe_row(line)]
                while j < n and lines[j].strip() and "|" in lines[j]:
                    rows.append(pipe_row(lines[j]))
                    j += 1
                self.table(rows)
                i = j
                continue

            # thematic breaks
            if THEMATIC.match(line) and not para:
                i += 1
                continue

            # reST explicit markup: directives, comments, targets, footnotes
            if (
                self.flavor in ("rst", "plain")
                and EXPLICIT.match(s)
                and not para
                and (self.flavor == "rst" or "::" in s)
            ):
                j = i + 1
                while j < n and (not lines[j].strip() or indent_width(lines[j]) > indent):
                    j += 1
                body = dedent(lines[i + 1 : j])
                self.explicit(s, body)
                i = j
                continue

            # list items
            mb = BULLET.match(line)
            mo = ORDERED.match(line)
            mi = mb or mo
            if mi and (not para or mb or mi.group(2) in ("1.", "1)", "#.")):
                if mb and self.flavor == "md" and THEMATIC.match(line):
                    mi = None
            if mi and (not para or mb or mi.group(2) in ("1.", "1)", "#.")):
                flush()
                content = mi.start(3)
                item = [mi.group(3)]
                j = i + 1
                while j < n and lines[j].strip():
                    nl = lines[j]
                    if BULLET.match(nl) or (ORDERED.match(nl) and indent_width(nl) >= indent) or FENCE.match(nl):
                        break
                    if ATX.match(nl) and self.flavor == "md":
                        break
                    item.append(nl)
                    j += 1
                self.emit("list", _join_lines(item))
                last_list_indent = content
                i = j
                continue

            # continuation of a list item after a blank line (indented to its content)
            if last_list_indent > 0 and indent >= last_list_indent and not para and self.blocks:
                if indent >= last_list_indent + 4 and self.flavor == "md":
                    j = i
                    while j < n and (not lines[j].strip() or indent_width(lines[j]) >= last_list_indent + 4):
                        j += 1
                    self.blocks.append(Block("code", "\n".join(dedent(lines[i:j]))))
                    i = j
                    continue
                j = i
                while j < n and lines[j].strip():
                    j += 1
                self.emit("list", _join_lines(lines[i:j]))
                i = j
                continue
            # indented code (Markdown; plain text: four spaces more than the text around)
            if not para and indent >= 4 and self.flavor in ("md", "plain"):
                j = i
                while j < n and (not lines[j].strip() or indent_width(lines[j]) >= 4):
                    j += 1
                self.blocks.append(Block("code", "\n".join(dedent(lines[i:j]))))
                i = j
                continue

            # reST doctest blocks
            if not para and s.startswith(">>> ") and self.flavor in ("rst", "plain"):
                j = i
                while j < n and lines[j].strip():
                    j += 1
                self.blocks.append(Block("code", "\n".join(dedent(lines[i:j]))))
                i = j
                continue

            # Markdown block quotes: their text is read as a paragraph
            if self.flavor == "md" and s.startswith(">"):
                s = s.lstrip(">").strip()
                if not s:
                    i += 1
                    continue

            # a paragraph line; in reST a change of indentation starts a new one (definition lists)
            if para and self.flavor == "rst" and indent != para_indent:
                flush()
            if not para:
                para_indent = indent
            para.append(s)
            i += 1
        flush()

    def explicit(self, first: str, body: list[str]) -> None:
        """A reST explicit markup block: a directive, a footnote, or a comment / target (dropped)."""
        m = DIRECTIVE.match(first)
        if not m:
            f = FOOTNOTE.match(first)
            if f and not first.startswith(".. _"):
                self.paragraph([f.group(2), *body])
            return
        name = m.group(1).split(":")[-1].lower()
        argument = (m.group(2) or "").strip()
        while body and OPTION.match(body[0].strip()):
            body = body[1:]
        body = dedent(body)
        if name in CODE_DIRECTIVES:
            if body:
                self.blocks.append(Block("code", "\n".join(body)))
        elif name in DROPPED_DIRECTIVES:
            return
        elif name in VERSION_DIRECTIVES:
            self.emit("text", VERSION_DIRECTIVES[name].format(argument.split(" ")[0]))
            self.parse(body)
        elif name == "rubric":
            self.emit("text", argument)
        elif name in ("csv-table",):
            rows = [[cell.strip().strip('"') for cell in row.split(",")] for row in body if row.strip()]
            self.table(rows)
        else:
            if argument:
                self.emit("text", argument)
            self.parse(body)


def split_blocks(lines: list[str], flavor: str) -> list[Block]:
    """The blocks of ``lines`` read as ``flavor`` (see the module's contract)."""
    parser = _Parser(flavor)
    parser.parse(lines)
    return parser.blocks
