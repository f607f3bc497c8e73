"""Small real documents written by the tests themselves: a PDF with text in the standard 14 fonts
(Helvetica, Helvetica-Bold, Courier), an outline, or no text at all; a ZIP written member by
member (DOCX, EPUB, zip bombs streamed so that memory stays small)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

FONTS = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier"}


@dataclass(frozen=True)
class Text:
    """One line of text at (x, y) in points from the bottom left, in font F1 (Helvetica), F2
    (bold) or F3 (Courier)."""

    x: float
    y: float
    text: str
    font: str = "F1"
    size: float = 11.0


@dataclass(frozen=True)
class Bookmark:
    """An outline entry pointing at a page (0-based) and a height; children one level down."""

    title: str
    page: int
    y: float = 800.0
    children: tuple[Bookmark, ...] = field(default_factory=tuple)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(pages: list[list[Text]], outline: tuple[Bookmark, ...] = (), drawing: bool = False) -> bytes:
    """A valid PDF 1.4 file (A4 pages) with those lines of text; ``drawing`` adds a filled
    rectangle to each page (a page with no text is then a drawing, as a scan would be)."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font_ids = {
        name: add(f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>".encode())
        for name, base in FONTS.items()
    }
    fonts = b" ".join(f"/{name} {n} 0 R".encode() for name, n in font_ids.items())
    page_ids = []
    for lines in pages:
        ops = [b"0.5 g 100 100 200 150 re f"] if drawing else []
        for line in lines:
            ops.append(
                b"BT /%s %.1f Tf %.2f %.2f Td (%s) Tj ET"
                % (line.font.encode(), line.size, line.x, line.y, _escape(line.text))
            )
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << %s >> >> /Contents %d 0 R >>" % (pages_obj, fonts, content)
            )
        )
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % n for n in page_ids),
        len(page_ids),
    )
    outline_ref = b""
    if outline:
        root = add(b"")

        def entries(items: tuple[Bookmark, ...], parent: int) -> tuple[int, int]:
            ids = [add(b"") for _ in items]
            for i, (item, n) in enumerate(zip(items, ids, strict=True)):
                parts = [
                    b"/Title (%s) /Parent %d 0 R /Dest [%d 0 R /XYZ 0 %.1f 0]"
                    % (_escape(item.title), parent, page_ids[item.page], item.y)
                ]
                if i > 0:
                    parts.append(b"/Prev %d 0 R" % ids[i - 1])
                if i + 1 < len(ids):
                    parts.append(b"/Next %d 0 R" % ids[i + 1])
                if item.children:
                    first, last = entries(item.children, n)
                    parts.append(b"/First %d 0 R /Last %d 0 R /Count %d" % (first, last, len(item.children)))
                objects[n - 1] = b"<< " + b" ".join(parts) + b" >>"
            return ids[0], ids[-1]

        first, last = entries(outline, root)
        objects[root - 1] = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (first, last, len(outline))
        outline_ref = b" /Outlines %d 0 R /PageMode /UseOutlines" % root
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_obj, outline_ref)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)


def write_zip(path: Path, members: dict[str, bytes | str], stored: tuple[str, ...] = ("mimetype",)) -> Path:
    """A ZIP file with those members in that order (``stored`` ones uncompressed, as EPUB's mimetype)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return path


def write_zip_bomb(path: Path, member: str, megabytes: int, others: dict[str, bytes | str] | None = None) -> Path:
    """A ZIP whose ``member`` unpacks to ``megabytes`` MB (10^6 bytes) of zeros, written 1 MB at a
    time (a few hundred KB on disk, little memory)."""
    chunk = bytes(1_000_000)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in (others or {}).items():
            archive.writestr(name, data)
        with archive.open(member, "w", force_zip64=True) as out:
            for _ in range(megabytes):
                out.write(chunk)
    return path
