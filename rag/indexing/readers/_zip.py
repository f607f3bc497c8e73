"""The checks a ZIP container (DOCX, EPUB) passes before any member is parsed.

Contract: :func:`open_zip` opens the bytes as a ZIP archive and checks its central directory (the
declared sizes, which also bound what :mod:`zipfile` will decompress): the members' uncompressed
sizes add up to at most ``limits.max_unzipped_mb`` (MB of 10^6 bytes), and no member over 1 MB
decompresses more than ``limits.max_zip_ratio`` times its compressed size (a zip bomb is
thousands of times). :class:`ReaderError` otherwise, naming the limit and the option that raises it.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from rag.indexing.readers.base import ReaderError, ReadLimits

#: Members smaller than this are not held to the ratio (a few repetitive kilobytes compress well
#: and are harmless).
RATIO_FLOOR_BYTES = 1_000_000


def open_zip(data: bytes, what: str, limits: ReadLimits) -> zipfile.ZipFile:
    """The archive, after the size and ratio checks; ``what`` ("DOCX", "EPUB") names the format in errors."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ReaderError(
            f"not a readable {what} (an OLE2 file: an encrypted document or an old binary format; "
            "save it unprotected in the modern format)"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        # (a UnicodeDecodeError, for a member name that is not UTF-8, is a ValueError)
        raise ReaderError(f"not a readable {what} (not a ZIP archive: {exc})") from None
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size >= RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_zip_ratio:
                raise ReaderError(
                    f"a zip bomb? {info.filename!r} would grow {ratio:.0f} times when unpacked, "
                    f"over the limit of {limits.max_zip_ratio:g} (max_zip_ratio)"
                )
    if total > limits.max_unzipped_mb * 1_000_000:
        raise ReaderError(
            f"unpacks to {total / 1_000_000:.{1 if total >= 100_000 else 3}f} MB, "
            f"over the limit of {limits.max_unzipped_mb:g} MB "
            "(max_unzipped_mb, raised with --max-file-mb)"
        )
    return archive


def read_member(archive: zipfile.ZipFile, name: str, what: str) -> bytes:
    """A member's bytes; :class:`ReaderError` when it is missing or damaged."""
    try:
        return archive.read(name)
    except KeyError:
        raise ReaderError(f"not a readable {what} (no {name})") from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        NotImplementedError,
        ValueError,
        OSError,
        EOFError,
    ) as exc:
        raise ReaderError(f"not a readable {what} ({name}: {exc})") from None
