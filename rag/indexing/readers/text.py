"""Plain text, Markdown, reStructuredText and AsciiDoc files, read as text.

Contract: :func:`read_text` decodes the bytes as UTF-8 (a BOM is dropped; UTF-16 with a BOM is
read too) and returns blocks in file order: Markdown ``#`` and underlined headings, reST
underlined / overlined headings (levels in order of first appearance of each adornment style),
AsciiDoc ``=`` headings as ``heading`` blocks; fenced (```` ``` ```` / ``~~~``) and indented code,
reST ``::`` literal blocks and ``code-block`` directives, AsciiDoc ``----`` listings as ``code``
blocks (their lines kept); list items (``-``, ``*``, ``+``, ``1.``, ``#.``) as ``list`` blocks;
Markdown pipe tables and reST grid and simple tables as ``table`` blocks (one row a line, cells
joined by ``" | "``); every other run of lines up to a blank line as one ``text`` paragraph, its
hard-wrapped lines joined with a space. Light inline markup is removed from headings, paragraphs,
list items and cells (reST roles, literals, emphasis, links; Markdown emphasis, links, code spans);
code is kept as written. The title is the front matter's ``title``, else the first heading, else
the file name without its suffix. :class:`ReaderError` for NUL bytes (a binary file) and for
bytes that are not UTF-8 (naming the first bad byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.indexing.readers.base import Block, BlockKind, ReadDocument, ReaderError, ReadLimits

#: The suffixes read as text; ``.rst.txt`` (Sphinx's copied sources) is reST.
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown", ".rst", ".rst.txt", ".adoc", ".asciidoc")

_FLAVORS = {".md": "md", ".markdown": "md", ".rst": "rst", ".rst.txt": "rst", ".adoc": "adoc", ".asciidoc": "adoc"}

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_ADOC_HEADING = re.compile(r"^(={1,6})[ \t]+(\S.*)$")
_ADOC_DELIMITER = re.compile(r"^(-{4,}|\.{4,}|`{3,})\s*$")
_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")
_THEMATIC = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^(\s*)([-*+•‣◦])[ \t]+(\S.*)$")
_ORDERED = re.compile(r"^(\s*)(\d{1,9}[.)]|#[.)]|\(\d{1,3}\)|\([a-z]\))[ \t]+(\S.*)$")
_PIPE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_GRID_BORDER = re.compile(r"^\s*\+(?:[-=]+\+)+\s*$")
_SIMPLE_BORDER = re.compile(r"^\s*=+(?: +=+)+\s*$")
_DIRECTIVE = re.compile(r"^\.\.[ \t]+([\w:+-]+)::(?:[ \t]+(.*))?$")
_EXPLICIT = re.compile(r"^\.\.(?:[ \t]|$)")
_FOOTNOTE = re.compile(r"^\.\.[ \t]+\[([#*]?[\w-]*)\][ \t]+(.*)$")
_OPTION = re.compile(r"^:[\w-]+:(?:[ \t].*)?$")
_HTML_COMMENT = re.compile(r"^\s*<!--")

_CODE_DIRECTIVES = {
    "code-block",
    "code",
    "sourcecode",
    "productionlist",
    "doctest",
    "testcode",
    "testoutput",
    "parsed-literal",
}
_DROPPED_DIRECTIVES = {
    "toctree", "index", "image", "include", "literalinclude", "raw", "highlight", "contents", "sectnum", "meta",
    "moduleauthor", "sectionauthor", "codeauthor", "currentmodule", "module", "autosummary", "automodule",
    "autoclass", "autofunction", "automethod", "autodata", "autoattribute", "tabularcolumns", "default-role",
    "default-domain", "role", "title", "header", "footer", "target-notes", "graphviz", "math", "only-html",
}  # fmt: skip
_VERSION_DIRECTIVES = {
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


def decode_text(data: bytes) -> str:
    """The bytes as text: UTF-8 (a leading BOM dropped) or UTF-16 with its BOM; :class:`ReaderError`
    for NUL bytes in a file without a UTF-16 BOM, or for a byte sequence that is not UTF-8."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReaderError(f"not valid UTF-16 text (byte {exc.start}): convert it to UTF-8") from None
    if b"\x00" in data:
        raise ReaderError("contains NUL bytes: a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)]
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise ReaderError(
            f"not valid UTF-8 text (byte {start}): 0x{bad:02X} cannot be read as UTF-8; convert it to UTF-8"
        ) from None


def flavor_of(path: Path) -> str:
    """``md``, ``rst``, ``adoc`` or ``plain``, by the file's suffix."""
    name = path.name.lower()
    if name.endswith(".rst.txt"):
        return "rst"
    return _FLAVORS.get(path.suffix.lower(), "plain")


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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _dedent(lines: list[str]) -> list[str]:
    """The lines with their common leading spaces removed, blank lines at both ends dropped."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        return []
    margin = min(_indent(line) for line in lines if line.strip())
    return [line[margin:].rstrip() for line in lines]


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

    # ---------------------------------------------------------------- tables

    @staticmethod
    def pipe_row(line: str) -> list[str]:
        s = line.strip()
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|") and not s.endswith("\\|"):
            s = s[:-1]
        return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", s)]

    @staticmethod
    def grid_rows(lines: list[str]) -> list[list[str]]:
        """A reST grid table's rows: the lines between ``+---+`` borders, cells joined by column."""
        border = lines[0].strip()
        cuts = [i for i, c in enumerate(border) if c == "+"]
        offset = _indent(lines[0])
        rows: list[list[str]] = []
        current: list[list[str]] = []
        for line in lines[1:]:
            s = line[offset:].rstrip() if len(line) >= offset else line.strip()
            if _GRID_BORDER.match(line):
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

    @staticmethod
    def simple_rows(lines: list[str]) -> list[list[str]]:
        """A reST simple table's rows: columns from the first ``===  ===`` border."""
        border = lines[0]
        spans = [(m.start(), m.end()) for m in re.finditer(r"=+", border)]
        rows: list[list[str]] = []
        for line in lines[1:]:
            if _SIMPLE_BORDER.match(line) or not line.strip() or re.fullmatch(r"\s*[-\s]+", line):
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
            indent = _indent(line)
            nxt = lines[i + 1] if i + 1 < n else ""

            if not s:
                flush()
                i += 1
                continue

            if last_list_indent > 0 and indent < last_list_indent and not para and not _BULLET.match(line):
                last_list_indent = -1

            # reST literal block after "::": the indented lines that follow
            if literal_next and not para:
                literal_next = False
                prev_indent = para_indent
                if indent > prev_indent:
                    j = i
                    while j < n and (not lines[j].strip() or _indent(lines[j]) > prev_indent):
                        j += 1
                    self.blocks.append(Block("code", "\n".join(_dedent(lines[i:j]))))
                    i = j
                    continue
            literal_next = False

            # HTML comments (Markdown)
            if self.flavor == "md" and _HTML_COMMENT.match(line):
                flush()
                j = i
                while j < n and "-->" not in lines[j]:
                    j += 1
                i = j + 1
                continue

            # fenced code
            m = _FENCE.match(line)
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
                m = _ADOC_HEADING.match(line)
                if m and not para:
                    self.emit("heading", m.group(2), level=len(m.group(1)))
                    i += 1
                    continue
                m = _ADOC_DELIMITER.match(line)
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
                m = _ATX.match(line)
                if m and (self.flavor == "md" or (m.group(2) and len(m.group(1)) <= 3 and not para)):
                    flush()
                    self.emit("heading", m.group(2) or "", level=len(m.group(1)))
                    i += 1
                    continue

            # overlined and underlined headings
            if not para and _ADORNMENT.match(line) and i + 2 < n and lines[i + 1].strip():
                under = lines[i + 2].strip()
                title = lines[i + 1].strip()
                if under == s and len(s) >= len(title) - 1 and not _ADORNMENT.match(title):
                    self.emit("heading", title, level=self.heading_level(s[0], True))
                    i += 3
                    continue
            if (
                not para
                and self.flavor != "adoc"
                and _ADORNMENT.match(nxt)
                and not _ADORNMENT.match(line)
                and len(nxt.strip()) >= min(len(s), 3)
                and indent < 4
                and not _BULLET.match(line)
                and not (self.flavor == "md" and nxt.strip()[0] not in "=-")
                and not _SIMPLE_BORDER.match(nxt)
            ):
                self.emit("heading", s, level=self.heading_level(nxt.strip()[0], False))
                i += 2
                continue

            # tables
            if _GRID_BORDER.match(line) and not para:
                j = i + 1
                while j < n and lines[j].strip()[:1] in ("+", "|"):
                    j += 1
                self.table(self.grid_rows(lines[i:j]))
                i = j
                continue
            if _SIMPLE_BORDER.match(line) and not para and self.flavor != "md":
                j, borders = i + 1, 1
                while j < n:
                    if _SIMPLE_BORDER.match(lines[j]):
                        borders += 1
                        if borders >= 3 or (borders == 2 and (j + 1 >= n or not lines[j + 1].strip())):
                            j += 1
                            break
                    j += 1
                self.table(self.simple_rows(lines[i:j]))
                i = j
                continue
            if "|" in s and _PIPE_SEPARATOR.match(nxt) and "-" in nxt and not para:
                j = i + 2
                rows = [self.pipe_row(line)]
                while j < n and lines[j].strip() and "|" in lines[j]:
                    rows.append(self.pipe_row(lines[j]))
                    j += 1
                self.table(rows)
                i = j
                continue

            # thematic breaks
            if _THEMATIC.match(line) and not para:
                i += 1
                continue

            # reST explicit markup: directives, comments, targets, footnotes
            if (
                self.flavor in ("rst", "plain")
                and _EXPLICIT.match(s)
                and not para
                and (self.flavor == "rst" or "::" in s)
            ):
                j = i + 1
                while j < n and (not lines[j].strip() or _indent(lines[j]) > indent):
                    j += 1
                body = _dedent(lines[i + 1 : j])
                self.explicit(s, body)
                i = j
                continue

            # list items
            mb = _BULLET.match(line)
            mo = _ORDERED.match(line)
            mi = mb or mo
            if mi and (not para or mb or mi.group(2) in ("1.", "1)", "#.")):
                if mb and self.flavor == "md" and _THEMATIC.match(line):
                    mi = None
            if mi and (not para or mb or mi.group(2) in ("1.", "1)", "#.")):
                flush()
                content = mi.start(3)
                item = [mi.group(3)]
                j = i + 1
                while j < n and lines[j].strip():
                    nl = lines[j]
                    if _BULLET.match(nl) or (_ORDERED.match(nl) and _indent(nl) >= indent) or _FENCE.match(nl):
                        break
                    if _ATX.match(nl) and self.flavor == "md":
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
                    while j < n and (not lines[j].strip() or _indent(lines[j]) >= last_list_indent + 4):
                        j += 1
                    self.blocks.append(Block("code", "\n".join(_dedent(lines[i:j]))))
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
                while j < n and (not lines[j].strip() or _indent(lines[j]) >= 4):
                    j += 1
                self.blocks.append(Block("code", "\n".join(_dedent(lines[i:j]))))
                i = j
                continue

            # reST doctest blocks
            if not para and s.startswith(">>> ") and self.flavor in ("rst", "plain"):
                j = i
                while j < n and lines[j].strip():
                    j += 1
                self.blocks.append(Block("code", "\n".join(_dedent(lines[i:j]))))
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
        m = _DIRECTIVE.match(first)
        if not m:
            f = _FOOTNOTE.match(first)
            if f and not first.startswith(".. _"):
                self.paragraph([f.group(2), *body])
            return
        name = m.group(1).split(":")[-1].lower()
        argument = (m.group(2) or "").strip()
        while body and _OPTION.match(body[0].strip()):
            body = body[1:]
        body = _dedent(body)
        if name in _CODE_DIRECTIVES:
            if body:
                self.blocks.append(Block("code", "\n".join(body)))
        elif name in _DROPPED_DIRECTIVES:
            return
        elif name in _VERSION_DIRECTIVES:
            self.emit("text", _VERSION_DIRECTIVES[name].format(argument.split(" ")[0]))
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


def _front_matter(lines: list[str]) -> tuple[str, list[str]]:
    """A Markdown YAML front matter block's ``title`` and the lines after it."""
    if not lines or lines[0].strip() != "---":
        return "", lines
    for j in range(1, min(len(lines), 200)):
        if lines[j].strip() in ("---", "..."):
            title = ""
            for line in lines[1:j]:
                m = re.match(r"^title:\s*(.+)$", line)
                if m:
                    title = m.group(1).strip().strip("'\"")
            return title, lines[j + 1 :]
    return "", lines


def parse_text(text: str, flavor: str) -> tuple[str, list[Block]]:
    """The front-matter title (Markdown) and the blocks of ``text`` read as ``flavor``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.expandtabs(4 if flavor == "md" else 8) for line in text.split("\n")]
    title = ""
    if flavor == "md":
        title, lines = _front_matter(lines)
    if flavor == "plain":
        lines = _dedent(lines) if any(x.strip() for x in lines) else []
    parser = _Parser(flavor)
    parser.parse(lines)
    return title, parser.blocks


def read_text(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    """Read a text-like file (see the module's contract)."""
    text = decode_text(data)
    title, blocks = parse_text(text, flavor_of(path))
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading"), "")
    if not title:
        name = path.name
        title = name[: -len(".rst.txt")] if name.lower().endswith(".rst.txt") else path.stem
    return ReadDocument(title=title, blocks=tuple(blocks))
