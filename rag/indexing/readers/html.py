"""HTML pages (``.html``, ``.htm``, ``.xhtml``): the main content as blocks, with anchors.

Contract: :func:`read_html` parses the bytes with selectolax's Lexbor HTML5 parser (a parser only:
no script is run, nothing is fetched) and returns the blocks of the page's main content:
``main``, else ``[role=main]``, else the only ``article``, else Sphinx's ``div.body`` /
``div.document``, else ``body``. Left out: scripts, styles, forms, frames, ``nav``, ``aside``,
``footer``, ``header`` without a heading, elements with role navigation / banner / contentinfo /
complementary / search, hidden elements, and blocks whose class or id names navigation, a menu, a
sidebar, breadcrumbs, a cookie banner, a footer, related links, a tagline, or says "noprint" /
"nosearch". ``h1``–``h6`` become ``heading`` blocks (``level`` 1–6), ``pre`` a ``code`` block (its
lines kept), so does a ``blockquote`` of code lines (:func:`_quoted_code`), a ``table`` a ``table`` block
(one row a line, cells joined by ``" | "``), each ``li`` a ``list`` block, ``dt`` and paragraphs
``text`` blocks (whitespace collapsed). Each block's ``anchor`` is the id of the nearest element
with an id (or ``a name``) at or above it in document order: the heading's own id, its section's,
a Sphinx ``<dt id=...>``. The title is ``<title>`` (a trailing " — Project documentation" part
dropped), else the first ``h1``, else the file name without its suffix. The encoding is the BOM's,
else the one declared in the first 4 KB, else UTF-8, else Windows-1252.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.indexing.readers.base import Block, BlockKind, ReadDocument, ReadLimits

_DROP_TAGS = frozenset(
    "script style noscript template iframe frame frameset object embed canvas svg form button input select "
    "textarea option head link meta nav aside footer dialog audio video map area title base".split()
)
_DROP_ROLES = frozenset(
    "navigation banner contentinfo complementary search menu menubar toolbar dialog alertdialog".split()
)
_BOILERPLATE_PART = re.compile(
    r"^(?:nav\w*|\w*nav|\w*menu|banner|\w*sidebar\w*|breadcrumbs?|\w*cookies?\w*|\w*footer|related|gdpr|consent\w*"
    r"|skiplink|tagline|noprint|nosearch)$"
)
_INLINE = frozenset(
    "a abbr acronym b bdi bdo big cite code data del dfn em font i ins kbd label mark q rp rt ruby s samp "
    "small span strike strong sub sup time tt u var wbr math img".split()
)
_BLOCK = frozenset(
    "address article blockquote body caption center details dialog dir div dl fieldset figcaption figure "
    "header hgroup html legend main menu ol p section summary ul hr".split()
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LIST_CONTAINERS = frozenset(("ul", "ol", "dir", "menu"))
_TABLE_PARTS = frozenset(("thead", "tbody", "tfoot", "tr", "td", "th", "colgroup", "col"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_SELF_CLOSING = re.compile(r"<([A-Za-z][\w:-]*)((?:\s+[^<>]*?)?)\s*/>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_TITLE_SUFFIX = re.compile(r"\s+[—–|-]\s+[^—–|]*\b(?:[Dd]ocumentation|[Dd]ocs|[Mm]anual|[Rr]eference)\s*$")


def decode_html(data: bytes) -> str:
    """The page as text: by its BOM, else its declared charset (``<meta>`` or the XML declaration
    in the first 4 KB), else UTF-8, else Windows-1252 (which decodes any byte)."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    head = data[:4096]
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if m:
        codec = m.group(1).decode("ascii").lower()
        try:
            return data.decode("cp1252" if codec in ("iso-8859-1", "latin-1", "us-ascii", "ascii") else codec)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _expand_self_closing(text: str) -> str:
    """XHTML's ``<div/>`` as ``<div></div>`` so that an HTML parser does not leave it open."""
    return _SELF_CLOSING.sub(
        lambda m: m.group(0) if m.group(1).lower() in _VOID else f"<{m.group(1)}{m.group(2)}></{m.group(1)}>", text
    )


def clean_title(title: str) -> str:
    """A page title without its site part: Sphinx's "json — JSON encoder and decoder — Python 3.12
    documentation" is "json — JSON encoder and decoder".

    >>> clean_title("json — JSON encoder and decoder — Python 3.12.1 documentation")
    'json — JSON encoder and decoder'
    """
    title = " ".join(title.split())
    short = _TITLE_SUFFIX.sub("", title)
    return short or title


_HEADING_SELECTOR = "h1, h2, h3, h4, h5, h6"


def _is_boilerplate(node: Any) -> bool:
    """Whether an element is navigation, a banner, a footer... (see the module's contract)."""
    name = node.tag
    if name in _DROP_TAGS:
        return True
    attrs = node.attributes
    if not attrs:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    if style and re.search(r"display\s*:\s*none|visibility\s*:\s*hidden", style):
        return True
    role = attrs.get("role")
    if role and role.strip().lower() in _DROP_ROLES:
        return True
    classes = (attrs.get("class") or "").split()
    if name == "a" and "headerlink" in classes:
        return True
    if name in _INLINE:
        return False
    for token in [*classes, *(attrs.get("id") or "").split()]:
        for part in re.split(r"[-_.:]", token.lower()):
            if part and _BOILERPLATE_PART.match(part):
                return True
    return False


def _text_of(node: Any) -> str:
    """The element's text, whitespace collapsed; a space between block-level parts, none inside words."""
    parts: list[str] = []

    def collect(parent: Any) -> None:
        for child in parent.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                parts.append(child.text_content or "")
            elif tag.startswith("-") or tag.startswith("_") or _is_boilerplate(child):
                continue
            elif tag in _INLINE:
                collect(child)
            else:
                parts.append(" ")
                collect(child)
                parts.append(" ")

    collect(node)
    return " ".join("".join(parts).split())


def _has_text(node: Any) -> bool:
    return bool(node.text(deep=True).strip())


def _main_content(tree: Any) -> Any:
    """The element holding the page's main content (see the module's contract)."""
    for selector in ("main", '[role="main"]'):
        found = [node for node in tree.css(selector) if _has_text(node)]
        if found:
            return max(found, key=lambda node: len(node.text(deep=True)))
    articles = [node for node in tree.css("article") if _has_text(node)]
    if len(articles) == 1:
        return articles[0]
    for selector in ("div.body", "div.document"):
        found = tree.css_first(selector)
        if found is not None and _has_text(found):
            return found
    return tree.body or tree.root


_CODE_SIGN = re.compile(r"[;(){}\[\]=<>$\\]|^(?:-{1,2}|\.)[A-Za-z]")
_PROSE_END = re.compile(r"[a-z]{2,}[.!?:](?:\s|$)")
_NOT_INLINE = frozenset((*_BLOCK, *_HEADINGS, *_TABLE_PARTS, "table", "pre", "li", "dt", "dd"))


def _quoted_code(node: Any) -> str | None:
    """The lines of a ``blockquote`` that sets code rather than a quotation, else None: inline
    content only (``br`` ends a line), every line showing a sign of code (``;``, brackets, ``=``,
    ``<``, ``$``, a leading option or dot command) and none ending a prose word with ``.``, ``!``,
    ``?`` or ``:``. Older hand-written manuals (SQLite's) indent their examples this way.

    >>> from selectolax.lexbor import LexborHTMLParser
    >>> def quoted(html):
    ...     return _quoted_code(LexborHTMLParser(html).css_first("blockquote"))
    >>> quoted("<blockquote>SELECT date('now','-1 day');<br>SELECT unixepoch();</blockquote>").splitlines()
    ["SELECT date('now','-1 day');", 'SELECT unixepoch();']
    >>> [quoted(h) for h in ("<blockquote>Data dominates. Show me your tables.</blockquote>",
    ...                      "<blockquote><p>f(x) = 1;</p></blockquote>")]
    [None, None]
    """
    parts: list[str] = []
    for child in node.traverse(include_text=True):
        tag = child.tag
        if tag in _NOT_INLINE and child.mem_id != node.mem_id:
            return None
        if tag == "-text":
            parts.append(child.text_content or "")
        elif tag == "br":
            parts.append("\n")
    lines = [line.strip() for line in "".join(parts).replace("\xa0", " ").split("\n") if line.strip()]
    if not lines or not all(_CODE_SIGN.search(line) and not _PROSE_END.search(line) for line in lines):
        return None
    return "\n".join(lines)


def _is_exponent(node: Any) -> bool:
    """A ``sup`` that holds an exponent: a short signed number or letter ("64", "-5", "n"), not a
    footnote marker ("[1]") or a word.

    >>> from selectolax.lexbor import LexborHTMLParser
    >>> [_is_exponent(LexborHTMLParser(f"<sup>{t}</sup>").css_first("sup")) for t in ("64", "-5", "[1]", "note")]
    [True, True, False, False]
    """
    return re.fullmatch(r"[-+\u2212]?(?:\d{1,4}|[a-zA-Z])", node.text(deep=True).strip()) is not None


@dataclass
class _Walker:
    """Walks the content in document order, gathering inline text into paragraphs."""

    anchor_prefix: str | None = None
    blocks: list[Block] = field(default_factory=list)
    anchor: str | None = None
    parts: list[str] = field(default_factory=list)
    parts_anchor: str | None = None
    kind: BlockKind = "text"

    def __post_init__(self) -> None:
        self.anchor = self.anchor_prefix

    def set_anchor(self, ident: str) -> None:
        ident = ident.strip()
        if ident:
            self.anchor = f"{self.anchor_prefix}#{ident}" if self.anchor_prefix else ident

    def add_text(self, text: str) -> None:
        if not self.parts and text.strip():
            self.parts_anchor = self.anchor
        if self.parts or text.strip():
            self.parts.append(text)

    def after_digit(self) -> bool:
        """Whether the text gathered so far ends in a digit (no space before it)."""
        return bool(self.parts) and self.parts[-1][-1:].isdigit()

    def flush(self) -> None:
        text = " ".join("".join(self.parts).split())
        if text:
            self.blocks.append(Block(self.kind, text, anchor=self.parts_anchor))
        self.parts = []

    def emit(self, kind: BlockKind, text: str, level: int = 0) -> None:
        if text.strip():
            self.blocks.append(Block(kind, text, level=level, anchor=self.anchor))

    def walk(self, node: Any) -> None:
        for child in node.iter(include_text=True):
            name = child.tag
            if name == "-text":
                self.add_text(child.text_content or "")
                continue
            if name.startswith("-") or name.startswith("_"):  # comments, doctypes
                continue
            if _is_boilerplate(child) and not (name == "header" and child.css_first(_HEADING_SELECTOR) is not None):
                continue
            attrs = child.attributes
            ident = attrs.get("id") or (attrs.get("name") if name == "a" else None)
            if ident:
                self.set_anchor(ident)  # a paragraph keeps the anchor it started under
            if name in _HEADINGS:
                self.flush()
                inner = child.css_first("a[id], span[id]")
                if not attrs.get("id") and inner is not None:
                    self.set_anchor(inner.attributes.get("id") or "")
                self.emit("heading", _text_of(child).replace("¶", "").strip(), level=_HEADINGS[name])
            elif name == "pre":
                self.flush()
                for number in child.css(".linenos, .lineno"):
                    number.decompose()
                lines = [line.rstrip() for line in child.text(deep=True).split("\n")]
                self.emit("code", "\n".join(lines).strip("\n"))
            elif name == "table":
                self.flush()
                self.table(child)
            elif name == "blockquote" and (code := _quoted_code(child)) is not None:
                self.flush()
                self.emit("code", code)
            elif name == "br":
                self.add_text(" ")
            elif name == "sup" and self.after_digit() and _is_exponent(child):
                self.add_text("^")  # 2<sup>64</sup> is 2^64, not "264"
                self.walk(child)
            elif name == "li":
                self.flush()
                outer, self.kind = self.kind, "list"
                self.walk(child)
                self.flush()
                self.kind = outer
            elif name in ("dt", "dd") or name in _LIST_CONTAINERS:
                self.flush()
                outer, self.kind = self.kind, "text"
                self.walk(child)
                self.flush()
                self.kind = outer
            elif name in _INLINE or (name not in _BLOCK and name not in _TABLE_PARTS and ":" not in name):
                self.walk(child)
            else:
                self.flush()
                self.walk(child)
                self.flush()

    def table(self, table: Any) -> None:
        """A data table as rows of cells; a layout table (code, nested tables, headings) walked."""
        attrs = table.attributes
        if (
            attrs.get("role") == "presentation"
            or "highlighttable" in (attrs.get("class") or "").split()
            or table.css_first("pre, " + _HEADING_SELECTOR) is not None
            or any(inner.mem_id != table.mem_id for inner in table.css("table"))  # css() may match the table itself
        ):
            for cell in table.css(".linenos"):
                cell.decompose()
            self.walk(table)
            return
        caption = table.css_first("caption")
        if caption is not None:
            self.emit("text", _text_of(caption))
        rows = []
        for tr in _rows(table):
            cells = [_text_of(cell) for cell in tr.iter() if cell.tag in ("td", "th")]
            if any(cells):
                rows.append(" | ".join(cells))
        self.emit("table", "\n".join(rows))


def _rows(table: Any) -> list[Any]:
    """The table's own rows (not those of a table nested in a cell)."""
    rows = []
    for child in table.iter():
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child.iter() if tr.tag == "tr")
    return rows


def html_blocks(text: str, anchor_prefix: str | None = None) -> tuple[str, list[Block]]:
    """The page's title (``<title>``, cleaned, else its first ``h1``; empty if none) and the blocks
    of its main content; each anchor ``"{anchor_prefix}#{id}"`` when a prefix is given (EPUB)."""
    from selectolax.lexbor import LexborHTMLParser

    if text.lstrip().startswith("<?xml") or "xmlns=" in text[:2048]:
        text = _expand_self_closing(text)
    tree = LexborHTMLParser(text)
    title_node = tree.css_first("title")
    title = clean_title(title_node.text(deep=True)) if title_node is not None else ""
    walker = _Walker(anchor_prefix)
    walker.walk(_main_content(tree))
    walker.flush()
    if not title:
        title = next((b.text for b in walker.blocks if b.kind == "heading" and b.level == 1), "")
    return title, walker.blocks


def read_html(data: bytes, path: Path, limits: ReadLimits) -> ReadDocument:
    """Read an HTML page (see the module's contract)."""
    title, blocks = html_blocks(decode_html(data))
    return ReadDocument(title=title or path.stem, blocks=tuple(blocks))
