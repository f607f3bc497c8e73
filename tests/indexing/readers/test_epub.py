"""The EPUB reader: the spine's chapters in order through the HTML reader, anchors pointing into
the book, the ZIP checked first; damaged and DRM-protected books refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexing.readers.makers import write_zip, write_zip_bomb
from rag.indexing.readers import read_document
from rag.indexing.readers.base import Block, ReaderError, ReadLimits

DOCS = Path(__file__).resolve().parents[2] / "data" / "documents"

CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/>'
    "</rootfiles></container>"
)
OPF = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>The Bee Book</dc:title></metadata>
  <manifest>
    <item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>
    <item id="c2" href="text/two%20parts.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style.css" media-type="text/css"/>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
  </manifest>
  <spine><itemref idref="nav"/><itemref idref="c2"/><itemref idref="c1"/></spine>
</package>"""


def chapter(body: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head><body>{body}</body></html>'


def book(tmp_path: Path, **extra: str) -> Path:
    members: dict[str, bytes | str] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": CONTAINER,
        "OEBPS/book.opf": OPF,
        "OEBPS/nav.xhtml": chapter('<nav epub:type="toc"><ol><li><a href="text/one.xhtml">One</a></li></ol></nav>'),
        "OEBPS/text/one.xhtml": chapter('<section id="s1"><h2>Later chapter</h2><p>Read second.</p></section>'),
        "OEBPS/text/two parts.xhtml": chapter(
            '<p>Before any id.</p><h1 id="start">First chapter</h1><p>Read first.</p>'
        ),
        "OEBPS/style.css": "p { margin: 0 }",
    }
    members.update(extra)
    return write_zip(tmp_path / "book.epub", members)


def read(data: bytes, name: str = "book.epub", limits: ReadLimits | None = None):
    return read_document(data, Path(name), limits or ReadLimits())


def test_spine_order_and_anchors_into_the_book(tmp_path: Path) -> None:
    doc = read(book(tmp_path).read_bytes())
    assert doc.title == "The Bee Book"
    assert doc.blocks == (
        Block("text", "Before any id.", anchor="text/two%20parts.xhtml"),
        Block("heading", "First chapter", level=1, anchor="text/two%20parts.xhtml#start"),
        Block("text", "Read first.", anchor="text/two%20parts.xhtml#start"),
        Block("heading", "Later chapter", level=2, anchor="text/one.xhtml#s1"),
        Block("text", "Read second.", anchor="text/one.xhtml#s1"),
    )


def test_a_pandoc_epub() -> None:
    doc = read((DOCS / "bees.epub").read_bytes(), "bees.epub")
    assert doc.title == "Notes on Bees"
    assert [(b.kind, b.text) for b in doc.blocks][:4] == [
        ("heading", "Notes on Bees"),
        ("heading", "Colonies"),
        ("text", "A honeybee colony has one queen, thousands of workers and, in summer, a few hundred drones."),
        ("heading", "Roles"),
    ]
    assert (
        Block(
            "code",
            "frames = 10\nbees_per_frame = 2500\nprint(frames * bees_per_frame)",
            anchor="text/ch001.xhtml#roles",
        )
        in doc.blocks
    )
    assert (
        Block("table", "Season | Colony size\nSpring | growing\nWinter | small", anchor="text/ch002.xhtml#seasons")
        in doc.blocks
    )


def test_a_corrupt_epub_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match=r"^not a readable EPUB \(not a ZIP archive"):
        read(b"not a zip at all")
    no_container = write_zip(tmp_path / "a.epub", {"mimetype": "application/epub+zip", "x.xhtml": "<p/>"})
    with pytest.raises(ReaderError, match=r"^not a readable EPUB \(no META-INF/container.xml\)$"):
        read(no_container.read_bytes())
    no_spine = write_zip(
        tmp_path / "b.epub",
        {"META-INF/container.xml": CONTAINER, "OEBPS/book.opf": "<package><manifest/></package>"},
    )
    with pytest.raises(ReaderError, match=r"^not a readable EPUB \(the package document has no spine\)$"):
        read(no_spine.read_bytes())


def test_entities_are_not_resolved(tmp_path: Path) -> None:
    """An OPF that declares an external entity (XXE) does not read the file it names."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    opf = OPF.replace(
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<?xml version="1.0" encoding="utf-8"?><!DOCTYPE package [<!ENTITY x SYSTEM "file://{secret}">]>',
    ).replace("The Bee Book", "&x;")
    doc = read(book(tmp_path, **{"OEBPS/book.opf": opf}).read_bytes())
    assert "TOP SECRET" not in doc.title and all("TOP SECRET" not in b.text for b in doc.blocks)


def test_a_drm_protected_epub_is_refused(tmp_path: Path) -> None:
    encryption = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">'
        '<enc:EncryptedData><enc:CipherData><enc:CipherReference URI="OEBPS/text/one.xhtml"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    with pytest.raises(ReaderError, match=r"^DRM-protected EPUB"):
        read(book(tmp_path, **{"META-INF/encryption.xml": encryption}).read_bytes())


def test_an_epub_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = write_zip_bomb(tmp_path / "bomb.epub", "OEBPS/text/one.xhtml", 5, {"META-INF/container.xml": CONTAINER})
    with pytest.raises(ReaderError, match=r"^a zip bomb\?"):
        read(bomb.read_bytes())
    with pytest.raises(ReaderError, match=r"^unpacks to 5.0 MB, over the limit of 1 MB"):
        read(bomb.read_bytes(), limits=ReadLimits(max_unzipped_mb=1, max_zip_ratio=1e9))
