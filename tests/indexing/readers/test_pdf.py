"""The PDF reader (pypdfium2): paragraphs, headings from the outline and the fonts, running heads
dropped, code kept, pages; and each way a PDF can be unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexing.readers.makers import Bookmark, Text, make_pdf
from rag.indexing.readers import read_document
from rag.indexing.readers.base import Block, ReaderError, ReadLimits
from rag.indexing.readers.pdf import read_pdf

DOCS = Path(__file__).resolve().parents[2] / "data" / "documents"


def head() -> Text:
    return Text(72, 800, "Field Notes on Bees", size=9)


def foot(n: int) -> Text:
    return Text(290, 30, f"Page {n}", size=9)


PAGES = [
    [
        head(),
        Text(72, 760, "1 Introduction", "F2", 16),
        Text(72, 730, "Honeybees live in colonies that can hold tens of thou-"),
        Text(72, 716, "sands of workers. Each colony has one queen and a few"),
        Text(72, 702, "hundred drones in summer."),
        Text(72, 680, "Workers forage for nectar and pollen within three"),
        Text(72, 666, "kilometres of the hive."),
        Text(72, 640, "1.1 Dance language", "F2", 13),
        Text(72, 615, "A forager returns and dances to show the direction"),
        Text(72, 601, "of the flowers to her sisters. The dance is called the"),
        Text(72, 587, "waggle dance:"),
        Text(90, 565, "> x <- c(1,2)", "F3", 10),
        Text(90, 553, "> for (i in x) {", "F3", 10),
        Text(102, 541, "print(i)", "F3", 10),
        Text(90, 529, "}", "F3", 10),
        foot(1),
    ],
    [
        head(),
        Text(72, 760, "2 Hive structure", "F2", 16),
        Text(72, 730, "The comb is built from wax made by young workers."),
        Text(72, 708, "• Brood cells hold eggs and larvae."),
        Text(72, 694, "• Honey cells store food for the"),
        Text(82, 680, "winter months."),
        Text(72, 658, "Bees keep the brood nest at about"),
        foot(2),
    ],
    [
        head(),
        Text(72, 760, "thirty-five degrees all year round."),
        Text(72, 730, "2.1 Ventilation", "F2", 13),
        Text(72, 705, "Fanning workers move air through the hive."),
        foot(3),
    ],
]
OUTLINE = (
    Bookmark("Introduction", 0, 780, (Bookmark("Dance language", 0, 660),)),
    Bookmark("Appendix: glossary", 2, 700),  # a bookmark whose title is on no line
)
EXPECTED = (
    Block("heading", "1 Introduction", level=1, page=1),
    Block(
        "text",
        "Honeybees live in colonies that can hold tens of thousands of workers. Each colony has one queen "
        "and a few hundred drones in summer.",
        page=1,
    ),
    Block("text", "Workers forage for nectar and pollen within three kilometres of the hive.", page=1),
    Block("heading", "1.1 Dance language", level=2, page=1),
    Block(
        "text",
        "A forager returns and dances to show the direction of the flowers to her sisters. "
        "The dance is called the waggle dance:",
        page=1,
    ),
    Block("code", "> x <- c(1,2)\n> for (i in x) {\n  print(i)\n}", page=1),
    Block("heading", "2 Hive structure", level=1, page=2),
    Block("text", "The comb is built from wax made by young workers.", page=2),
    Block("list", "Brood cells hold eggs and larvae.", page=2),
    Block("list", "Honey cells store food for the winter months.", page=2),
    # a paragraph running on to the next page keeps the page it starts on
    Block("text", "Bees keep the brood nest at about thirty-five degrees all year round.", page=2),
    Block("heading", "2.1 Ventilation", level=2, page=3),
    Block("text", "Fanning workers move air through the hive.", page=3),
    Block("heading", "Appendix: glossary", level=1, page=3),
)


def read(data: bytes, name: str = "bees.pdf", limits: ReadLimits | None = None):
    return read_document(data, Path(name), limits or ReadLimits())


def test_paragraphs_headings_lists_code_and_pages() -> None:
    doc = read(make_pdf(PAGES, OUTLINE))
    assert doc.pages == 3
    assert doc.blocks == EXPECTED
    assert doc.title == "1 Introduction"  # no metadata title: the first page's top heading
    # the running head and the page numbers are gone
    assert not any("Field Notes" in b.text or b.text.startswith("Page") for b in doc.blocks)


def test_contents_and_index_pages_are_left_out() -> None:
    # a manual's first page lists its sections with page numbers, its last page is an index;
    # a page of figures in the middle, with numbers at its lines' ends too, stays
    contents = [Text(72, 760 - 20 * i, f"Section {name} . . . . . {i + 2}") for i, name in enumerate("ABCDEFGHIJ")]
    body = [
        Text(72, 760 - 20 * i, f"Hives are kept in apiaries of many kinds, line {w}.") for i, w in enumerate("abcdefgh")
    ]
    figures = [Text(72, 760 - 20 * i, f"Colony weight in kilograms {i + 20}") for i in range(10)]
    index = [
        Text(72, 760 - 20 * i, f"{word}, {i + 3}, {i + 7}")
        for i, word in enumerate("apiary bee brood comb drone hive honey queen wax".split())
    ]
    pages = [contents, body, body, figures, body, body, body, body, body, index]
    doc = read(make_pdf(pages))
    text = "\n".join(b.text for b in doc.blocks)
    assert "Section A" not in text and "brood, 5" not in text
    assert "Hives are kept in apiaries" in text and "Colony weight in kilograms 20" in text
    assert {b.page for b in doc.blocks} == {2, 3, 4, 5, 6, 7, 8, 9}


def test_without_an_outline_the_fonts_still_make_headings() -> None:
    doc = read(make_pdf(PAGES))
    assert doc.blocks == EXPECTED[:-1]  # the bookmark-only heading aside, the same blocks


def test_a_pdf_whose_user_password_is_empty_is_read() -> None:
    doc = read((DOCS / "owner-password-only.pdf").read_bytes())
    assert doc.blocks[:3] == EXPECTED[:3]


def test_a_real_pdf() -> None:
    """SQLite's copyright release form, as Ghostscript wrote it (public domain)."""
    doc = read((DOCS / "sqlite-copyright-release.pdf").read_bytes(), "sqlite-copyright-release.pdf")
    assert doc.pages == 1
    assert doc.title == "Copyright Release for Contributions To SQLite"
    assert doc.blocks[0] == Block("heading", "Copyright Release for Contributions To SQLite", level=1, page=1)
    items = [b.text for b in doc.blocks if b.kind == "list"]
    assert [item[:2] for item in items] == ["1.", "2.", "3.", "4."]
    assert items[0].startswith("1. I dedicate to the public domain any and all copyright interest in the SQLite")
    assert all(b.page == 1 for b in doc.blocks)


def test_an_encrypted_pdf_is_refused() -> None:
    with pytest.raises(ReaderError, match=r"^encrypted PDF: decrypt it first$"):
        read((DOCS / "encrypted.pdf").read_bytes())


def test_a_pdf_without_a_text_layer_is_refused() -> None:
    scanned = make_pdf([[], []], drawing=True)  # pages with a drawing and no text, as a scan
    with pytest.raises(ReaderError, match=r"^no text layer: scanned\? OCR is not supported$"):
        read(scanned)


def test_a_truncated_pdf_is_refused() -> None:
    data = make_pdf(PAGES, OUTLINE)
    with pytest.raises(ReaderError, match=r"^not a readable PDF \(truncated"):
        read(data[: len(data) * 2 // 3])


def test_a_corrupt_pdf_is_refused() -> None:
    data = make_pdf(PAGES)
    garbled = data[:9] + bytes(range(256)) * 8 + b"\n%%EOF\n"
    with pytest.raises(ReaderError, match=r"^not a readable PDF \("):
        read(garbled)
    with pytest.raises(ReaderError, match=r"^not a readable PDF \(no %PDF header\)$"):
        read(b"<html>not a pdf</html>")


def test_the_reader_alone_takes_bytes_and_a_path() -> None:
    doc = read_pdf(make_pdf([[Text(72, 700, "Just one line.")]]), Path("one.pdf"), ReadLimits())
    assert doc.blocks == (Block("text", "Just one line.", page=1),)
    assert doc.title == "one" and doc.pages == 1
