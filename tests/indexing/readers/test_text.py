"""The text reader (Markdown, reST, AsciiDoc, plain text) and what :func:`read_document` adds to
every reader: the size limit, the dispatch by suffix, control characters removed, a library's
exception made one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_doctests

import rag.indexing.readers as readers
from rag.indexing.readers import SUPPORTED_SUFFIXES, clean_text, markup, read_document, reader_for
from rag.indexing.readers import text as text_reader
from rag.indexing.readers.base import Block, ReaderError, ReadLimits
from rag.indexing.readers.text import read_text

MARKDOWN = """---
title: Front Title
---
# Guide

Some *intro* text that is
hard-wrapped over **three**
lines with a [link](http://x.org) and `code`.

## Install

- first item
  continued here
- second item
  1. nested one
  2. nested two

```python
def f(x):

    return x
```

    indented code
      more

| a | b |
|---|---|
| 1 | 2 |

Setext
======

Other
-----
> quoted text
> more quoted
<!-- hidden
comment -->
Final para.
"""

RST = """.. _json-module:

=====================
 json --- JSON tools
=====================

.. module:: json
   :synopsis: Encode and decode the JSON format.

:mod:`json` exposes an API familiar to users of the standard library
:mod:`marshal` and :mod:`pickle` modules. See :ref:`the guide <json-guide>`
and :func:`zip`, ``x = 1``, *emphasis*, `Python <https://python.org>`_.

Basic Usage
-----------

Encoding basic Python object hierarchies::

    >>> import json
    >>> json.dumps(['foo', {'bar': ('baz', None, 1.0, 2)}])
    '["foo", {"bar": ["baz", null, 1.0, 2]}]'

.. function:: dump(obj, fp, *, skipkeys=False)

   Serialize *obj* as a JSON formatted stream to *fp*.

   .. versionchanged:: 3.6
      All optional parameters are now keyword-only.

Tables
^^^^^^

+--------+---------+
| Python | JSON    |
+========+=========+
| dict   | object  |
+--------+---------+
| list,  | array   |
| tuple  |         |
+--------+---------+

Another section
---------------

#. one
#. two

* bullet one
  continues

.. a comment
   spanning lines
"""


def read(data: bytes | str, name: str, limits: ReadLimits | None = None):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return read_document(raw, Path(name), limits or ReadLimits())


def test_markdown() -> None:
    doc = read(MARKDOWN, "guide.md")
    assert doc.title == "Front Title"
    assert doc.blocks == (
        Block("heading", "Guide", level=1),
        Block("text", "Some intro text that is hard-wrapped over three lines with a link and code."),
        Block("heading", "Install", level=2),
        Block("list", "first item continued here"),
        Block("list", "second item"),
        Block("list", "nested one"),
        Block("list", "nested two"),
        Block("code", "def f(x):\n\n    return x"),
        Block("code", "indented code\n  more"),
        Block("table", "a | b\n1 | 2"),
        Block("heading", "Setext", level=1),
        Block("heading", "Other", level=2),
        Block("text", "quoted text more quoted"),
        Block("text", "Final para."),
    )


def test_restructuredtext_levels_by_order_of_appearance_and_markup_cleanup() -> None:
    doc = read(RST, "library/json.rst.txt")  # Sphinx's copied sources: reST, not plain text
    assert doc.title == "json --- JSON tools"
    assert doc.blocks == (
        Block("heading", "json --- JSON tools", level=1),
        Block(
            "text",
            "json exposes an API familiar to users of the standard library marshal and pickle modules. "
            "See the guide and zip(), x = 1, emphasis, Python.",
        ),
        Block("heading", "Basic Usage", level=2),
        Block("text", "Encoding basic Python object hierarchies:"),
        Block(
            "code",
            ">>> import json\n>>> json.dumps(['foo', {'bar': ('baz', None, 1.0, 2)}])\n"
            '\'["foo", {"bar": ["baz", null, 1.0, 2]}]\'',
        ),
        Block("text", "dump(obj, fp, *, skipkeys=False)"),
        Block("text", "Serialize obj as a JSON formatted stream to fp."),
        Block("text", "Changed in version 3.6."),
        Block("text", "All optional parameters are now keyword-only."),
        Block("heading", "Tables", level=3),
        Block("table", "Python | JSON\ndict | object\nlist, tuple | array"),
        Block("heading", "Another section", level=2),
        Block("list", "one"),
        Block("list", "two"),
        Block("list", "bullet one continues"),
    )


def test_plain_text_and_asciidoc() -> None:
    plain = "Notes\n=====\n\nA line\nwrapped here.\n\n    $ make\n    $ make install\n\nEnd.\n"
    assert read(plain, "notes.txt").blocks == (
        Block("heading", "Notes", level=1),
        Block("text", "A line wrapped here."),
        Block("code", "$ make\n$ make install"),
        Block("text", "End."),
    )
    adoc = "= Book\n\n== Part\n\nSome text\nhere.\n\n----\nls -l\n----\n"
    doc = read(adoc, "book.adoc")
    assert doc.title == "Book"
    assert doc.blocks == (
        Block("heading", "Book", level=1),
        Block("heading", "Part", level=2),
        Block("text", "Some text here."),
        Block("code", "ls -l"),
    )
    assert read("just words", "x.rst.txt").title == "x"  # no heading: the name without .rst.txt


def test_a_binary_file_with_a_txt_suffix_is_refused() -> None:
    with pytest.raises(ReaderError, match=r"^contains NUL bytes: a binary file, not text$"):
        read(b"\x7fELF\x02\x01\x01\x00\x00\x00", "program.txt")


def test_bytes_that_are_not_utf8_are_named() -> None:
    with pytest.raises(ReaderError, match=r"^not valid UTF-8 text \(byte 3\): 0xE9 cannot be read as UTF-8"):
        read("caf\xe9 au lait".encode("latin-1"), "menu.txt")
    assert read("\ufeffwith a BOM".encode(), "bom.md").blocks == (Block("text", "with a BOM"),)
    assert read("UTF-16 text".encode("utf-16"), "wide.txt").blocks == (Block("text", "UTF-16 text"),)


def test_control_characters_are_removed_from_every_block() -> None:
    hostile = (
        "# Title\x1b]0;PWNED\x07 here\n\n"
        "Clear\x1b[2J screen, \x1b[31mred\x1b[0m, bell\x07, back\x08space, \u202eevil\u202c override, "
        "C1\x9b31m and\x85line, tab\tkept.\n\n"
        "```\ncode\x1b[1m bold\n```\n"
    )
    doc = read(hostile, "hostile.md")
    assert doc.title == "Title here"
    assert doc.blocks == (
        Block("heading", "Title here", level=1),
        Block("text", "Clear screen, red, bell, backspace, evil override, C1 and line, tab kept."),
        Block("code", "code bold"),
    )
    assert clean_text("a\u200bb\ufeffc\r\nd\x0ce") == "abc\nd\ne"


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setitem(readers.READERS, ".txt", lambda data, path, limits: calls.append(path))
    with pytest.raises(ReaderError) as caught:
        read(b"x" * 2_500_000, "big.txt", ReadLimits(max_file_mb=2))
    assert str(caught.value) == "is 2.5 MB, over the limit of 2 MB: raise it with --max-file-mb"
    assert not calls
    assert read_text(b"x" * 2_500_000, Path("big.txt"), ReadLimits()).blocks[0].text == "x" * 2_500_000


def test_an_unexpected_library_error_becomes_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, path: Path, limits: ReadLimits) -> None:
        raise ValueError("bad\nthing " + "x" * 500)

    monkeypatch.setitem(readers.READERS, ".md", broken)
    with pytest.raises(ReaderError) as caught:
        read("# fine", "a.md")
    message = str(caught.value)
    assert message.startswith("ValueError: bad thing xxx") and len(message) == 200 and "\n" not in message


def test_dispatch_by_suffix() -> None:
    assert reader_for(Path("A.PDF")) is readers.read_pdf
    assert reader_for(Path("notes.rst.txt")) is read_text
    assert reader_for(Path("page.xhtml")) is readers.read_html
    assert reader_for(Path("old.doc")) is None
    assert {".pdf", ".html", ".htm", ".xhtml", ".docx", ".epub", ".txt", ".md", ".rst", ".rst.txt"} <= set(
        SUPPORTED_SUFFIXES
    )
    with pytest.raises(ReaderError, match=r"^unsupported file type '\.doc'$"):
        read(b"x", "old.doc")


def test_doctests() -> None:
    run_doctests(text_reader)
    run_doctests(readers)
    run_doctests(markup)
