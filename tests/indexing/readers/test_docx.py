"""The DOCX reader (python-docx): headings, lists, code and tables in document order; the ZIP
checked before anything is parsed (zip bombs, missing parts)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from indexing.readers.makers import write_zip, write_zip_bomb
from rag.indexing.readers import read_document
from rag.indexing.readers.base import Block, ReaderError, ReadLimits

DOCS = Path(__file__).resolve().parents[2] / "data" / "documents"

BEES = (
    Block("heading", "Notes on Bees", level=1),
    Block("heading", "Colonies", level=1),
    Block("text", "A honeybee colony has one queen, thousands of workers and, in summer, a few hundred drones."),
    Block("heading", "Roles", level=2),
    Block("list", "The queen lays the eggs."),
    Block("list", "Workers build comb, forage and guard the hive."),
    Block("list", "Drones mate with queens of other colonies."),
    Block("text", "Counting the bees of a frame:"),
    Block("code", "frames = 10\nbees_per_frame = 2500\nprint(frames * bees_per_frame)"),
    Block("heading", "Seasons", level=1),
    Block("table", "Season | Colony size\nSpring | growing\nWinter | small"),
    Block("list", "Swarming happens in spring."),
    Block("list", "The winter cluster keeps the queen warm."),
)


def read(data: bytes, name: str = "doc.docx", limits: ReadLimits | None = None):
    return read_document(data, Path(name), limits or ReadLimits())


def test_a_pandoc_docx() -> None:
    doc = read((DOCS / "bees.docx").read_bytes(), "bees.docx")
    assert doc.title == "Notes on Bees"
    assert doc.blocks == BEES


def test_a_word_document_made_with_python_docx() -> None:
    document = docx.Document()
    document.add_paragraph("Beekeeping Manual", style="Title")
    document.add_heading("Equipment", level=1)
    document.add_paragraph("You need a hive\nand a smoker.")
    document.add_paragraph("Veil", style="List Bullet")
    document.add_paragraph("Gloves", style="List Number")
    document.add_heading("Inspection", level=2)
    for line in ("for frame in hive:", "    look(frame)"):
        run = document.add_paragraph().add_run(line)
        run.font.name = "Courier New"
        run.font.size = Pt(9)
    document.add_paragraph("if smoke:", style="macro")
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Part", "Use"
    table.cell(1, 0).text, table.cell(1, 1).text = "Smoker", "calms bees"
    merged = table.cell(2, 0).merge(table.cell(2, 1))
    merged.text = "Both are cleaned after use"
    document.add_paragraph("The end.")
    document.core_properties.title = ""
    buffer = io.BytesIO()
    document.save(buffer)
    doc = read(buffer.getvalue(), "manual.docx")
    assert doc.title == "Beekeeping Manual"
    assert doc.blocks == (
        Block("heading", "Beekeeping Manual", level=1),
        Block("heading", "Equipment", level=1),
        Block("text", "You need a hive and a smoker."),
        Block("list", "Veil"),
        Block("list", "Gloves"),
        Block("heading", "Inspection", level=2),
        Block("code", "for frame in hive:\n    look(frame)\nif smoke:"),
        Block("table", "Part | Use\nSmoker | calms bees\nBoth are cleaned after use"),
        Block("text", "The end."),
    )


def test_a_file_that_is_not_a_zip_is_refused() -> None:
    with pytest.raises(ReaderError, match=r"^not a readable DOCX \(not a ZIP archive"):
        read(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ReaderError, match=r"^not a readable DOCX \(an OLE2 file"):
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old.docx")


def test_a_zip_without_word_document_xml_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "x.docx", {"[Content_Types].xml": "<Types/>", "word/other.xml": "<x/>"})
    with pytest.raises(ReaderError, match=r"^not a readable DOCX \(no word/document.xml\)$"):
        read(path.read_bytes())


def test_a_damaged_document_xml_is_refused(tmp_path: Path) -> None:
    good = (DOCS / "bees.docx").read_bytes()
    import zipfile

    with zipfile.ZipFile(io.BytesIO(good)) as source:
        members: dict[str, bytes | str] = {name: source.read(name) for name in source.namelist()}
    members["word/document.xml"] = b"<w:document><w:body><w:p>unclosed"
    path = write_zip(tmp_path / "damaged.docx", members, stored=())
    with pytest.raises(ReaderError, match=r"^not a readable DOCX \("):
        read(path.read_bytes())


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    """A member of 300 MB of zeros (~300 KB on disk): refused from the ZIP's directory alone."""
    bomb = write_zip_bomb(tmp_path / "bomb.docx", "word/document.xml", 300, {"[Content_Types].xml": "<Types/>"})
    data = bomb.read_bytes()
    assert len(data) < 2_000_000
    start = time.perf_counter()
    with pytest.raises(ReaderError, match=r"^a zip bomb\? 'word/document.xml' would grow \d+ times .*max_zip_ratio"):
        read(data)
    assert time.perf_counter() - start < 1.0  # nothing was decompressed
    # with the ratio allowed, the unpacked total is still over the limit
    with pytest.raises(ReaderError, match=r"^unpacks to 300.0 MB, over the limit of 200 MB"):
        read(data, limits=ReadLimits(max_zip_ratio=1e9))


def test_the_unpacked_size_limit(tmp_path: Path) -> None:
    data = (DOCS / "bees.docx").read_bytes()
    with pytest.raises(ReaderError, match=r"^unpacks to 0\.0\d\d MB, over the limit of 0\.01 MB \(max_unzipped_mb"):
        read(data, limits=ReadLimits(max_unzipped_mb=0.01))
