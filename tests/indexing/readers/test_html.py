"""The HTML reader (BeautifulSoup over lxml): the main content without navigation and banners,
headings with levels and anchors, code, tables and lists; scripts never read nor run."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from conftest import run_doctests

from rag.indexing.readers import html as html_reader
from rag.indexing.readers import read_document
from rag.indexing.readers.base import Block, ReadLimits

DOCS = Path(__file__).resolve().parents[2] / "data" / "documents"

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Hives — Beekeeping 2.1 documentation</title>
<style>p { color: red }</style></head>
<body>
<header class="site"><a href="/">Beekeeping home</a></header>
<nav><ul><li><a href="/a">Nav link one</a></li><li>Nav link two</li></ul></nav>
<div id="cookie-banner">We use cookies. <button>Accept</button></div>
<div class="breadcrumbs">Home » Hives</div>
<main>
  <section id="hives">
    <h1>Hi<em>ves</em><a class="headerlink" href="#hives">¶</a></h1>
    <p>A hive is   a home
       for bees.</p>
    <section id="frames">
      <h2>Frames</h2>
      <p>Frames hold <b>comb</b>.</p>
      <pre>
def frames(n):
    return n * 10
</pre>
      <table>
        <tr><th>Frame</th><th>Bees</th></tr>
        <tr><td>1</td><td><p>2,<b>500</b></p><p>bees</p></td></tr>
      </table>
      <ul><li>Deep frames<ul><li>Nested item</li></ul></li><li>Shallow frames</li></ul>
      <dl><dt id="hive.open">hive.open(path)</dt><dd><p>Open a hive.</p></dd></dl>
      <p>After the definition.</p>
    </section>
    <h3 id="roof">Roof</h3>
    <div class="related">Related: Frames</div>
    <aside>A sidebar note.</aside>
    <p>The roof keeps rain out.</p>
  </section>
</main>
<div class="sidebar">Sidebar text</div>
<footer>Copyright footer text</footer>
<script>document.title = "SCRIPT TEXT"; fetch("http://example.org/leak")</script>
</body></html>
"""

EXPECTED = (
    Block("heading", "Hives", level=1, anchor="hives"),
    Block("text", "A hive is a home for bees.", anchor="hives"),
    Block("heading", "Frames", level=2, anchor="frames"),
    Block("text", "Frames hold comb.", anchor="frames"),
    Block("code", "def frames(n):\n    return n * 10", anchor="frames"),
    Block("table", "Frame | Bees\n1 | 2,500 bees", anchor="frames"),
    Block("list", "Deep frames", anchor="frames"),
    Block("list", "Nested item", anchor="frames"),
    Block("list", "Shallow frames", anchor="frames"),
    Block("text", "hive.open(path)", anchor="hive.open"),
    Block("text", "Open a hive.", anchor="hive.open"),
    Block("text", "After the definition.", anchor="hive.open"),
    Block("heading", "Roof", level=3, anchor="roof"),
    Block("text", "The roof keeps rain out.", anchor="roof"),
)


def read(data: bytes | str, name: str = "page.html"):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return read_document(raw, Path(name), ReadLimits())


def test_main_content_with_headings_anchors_code_tables_and_lists() -> None:
    doc = read(PAGE)
    assert doc.title == "Hives"  # the site part of the <title> dropped
    assert doc.blocks == EXPECTED


def test_boilerplate_is_left_out() -> None:
    text = "\n".join(b.text for b in read(PAGE).blocks)
    for gone in (
        "Beekeeping home",
        "Nav link",
        "cookies",
        "Accept",
        "Home »",
        "Related:",
        "sidebar",
        "Sidebar",
        "footer",
    ):
        assert gone not in text, gone


def test_scripts_are_neither_read_nor_run_nor_is_the_network_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the HTML reader reached the network or started a process")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    page = (
        "<html><head><title>T</title><script>var s = 'HEAD SCRIPT';</script></head><body>"
        "<p>Visible.</p><script type='text/javascript'>alert('BODY SCRIPT')</script>"
        "<img src='x' onerror=\"alert('HANDLER')\"><noscript>NOSCRIPT TEXT</noscript>"
        "<iframe src='http://example.org/'>FRAME TEXT</iframe><template><p>TEMPLATE TEXT</p></template>"
        "<style>.x { content: 'STYLE TEXT' }</style><p>Also visible.</p></body></html>"
    )
    doc = read(page)
    assert doc.blocks == (Block("text", "Visible."), Block("text", "Also visible."))
    assert doc.title == "T"


def test_a_sphinx_page_reads_its_body_not_its_sidebar() -> None:
    """Sphinx's own documentation page (BSD-2-Clause), as Sphinx 5.3 wrote it."""
    doc = read((DOCS / "sphinx-overview.html").read_bytes(), "sphinx-overview.html")
    assert doc.title == "Developing extensions overview"
    assert doc.blocks[:3] == (
        Block("heading", "Developing extensions overview", level=1, anchor="developing-extensions-overview"),
        Block(
            "text",
            "This page contains general information about developing Sphinx extensions.",
            anchor="developing-extensions-overview",
        ),
        Block(
            "heading",
            "Make an extension depend on another extension",
            level=2,
            anchor="make-an-extension-depend-on-another-extension",
        ),
    )
    assert (
        Block(
            "code",
            'def setup(app):\n    app.setup_extension("recommonmark")',
            anchor="make-an-extension-depend-on-another-extension",
        )
        in doc.blocks
    )
    text = "\n".join(b.text for b in doc.blocks)
    assert "Navigation" not in text and "Quick search" not in text and "¶" not in text


def test_a_real_page_without_main() -> None:
    """SQLite's "Zero-Configuration" page (public domain): the menu and its script left out."""
    doc = read((DOCS / "sqlite-zeroconf.html").read_bytes(), "sqlite-zeroconf.html")
    assert doc.title == "Zero-Configuration"
    assert Block("heading", "SQLite Is A Zero-Configuration Database", level=2) in doc.blocks
    assert Block("text", "SQLite just works.") in doc.blocks
    text = "\n".join(b.text for b in doc.blocks)
    assert "toggle_search" not in text and "Download" not in text and "Choose any three" not in text


def test_encoding_title_fallbacks_and_xhtml() -> None:
    latin = "<html><head><meta charset='windows-1252'></head><body><h1>Caf\xe9</h1><p>Cr\xe8me.</p></body></html>"
    doc = read(latin.encode("cp1252"), "menu.htm")
    assert doc.title == "Café" and doc.blocks == (Block("heading", "Café", level=1), Block("text", "Crème."))
    assert read("<p>No title at all.</p>", "plain.html").title == "plain"
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>X</title>'
        '</head><body><p>One<a id="here"/> two.</p><div/><p>Three.</p></body></html>'
    )
    assert read(xhtml, "page.xhtml").blocks == (Block("text", "One two."), Block("text", "Three.", anchor="here"))


def test_an_exponent_keeps_its_caret_and_a_footnote_stays_as_it_is() -> None:
    # SQLite's limits page writes 2<sup>64</sup>: flattened it reads "264", a wrong number
    page = "<p>At most 2<sup>64</sup> rows, or 2<sup>31</sup>-1 bytes; 10<sup>-5</sup>. See Hipp<sup>[1]</sup>.</p>"
    assert read(page, "limits.html").blocks == (
        Block("text", "At most 2^64 rows, or 2^31-1 bytes; 10^-5. See Hipp[1]."),
    )


def test_an_example_set_in_a_blockquote_is_code_and_a_quotation_stays_prose() -> None:
    # SQLite's pages (lang_datefunc.html) indent their SQL examples in <blockquote>, not <pre>
    page = (
        "<p>Compute the last day of the current month.</p>\n"
        "<blockquote>SELECT date('now','start of month','+1 month','-1 day');\n</blockquote>\n"
        "<blockquote>\n    SELECT unixepoch();<br>\n  SELECT strftime('%s');\n</blockquote>\n"
        "<blockquote><i>Data dominates. Show me your tables.</i></blockquote>\n"
        "<blockquote><p>PRAGMA foreign_keys = ON;</p></blockquote>"
    )
    assert read(page, "lang_datefunc.html").blocks == (
        Block("text", "Compute the last day of the current month."),
        Block("code", "SELECT date('now','start of month','+1 month','-1 day');"),
        Block("code", "SELECT unixepoch();\nSELECT strftime('%s');"),
        Block("text", "Data dominates. Show me your tables."),
        Block("text", "PRAGMA foreign_keys = ON;"),  # a paragraph inside: the author's prose block
    )


def test_doctests() -> None:
    run_doctests(html_reader)
