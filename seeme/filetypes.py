"""What a file is, decided from its bytes (never from its name or declared type).

Pure: reads a seekable binary file object, raises ``FileRefused`` with a reason. Accepted:
PNG, JPEG, WebP and GIF images (verified and fully decoded by Pillow under a pixel limit),
PDF, Word (.doc, .docx) and UTF-8 plain text. Anything else, and text that a browser would
sniff as HTML, SVG or XML (scriptable), is refused.
"""

import warnings
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from seeme.exceptions import FileRefused

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
WORD_STREAM = "WordDocument".encode("utf-16-le")
CHUNK = 1 << 20
EXIF_ORIENTATION = 0x0112
TURNED = {5, 6, 7, 8}  # orientations that swap width and height

# (Pillow format, extension, content type) of the accepted images.
IMAGE_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
# What WHATWG MIME sniffing treats as HTML (plus SVG and XML): text starting with one of
# these (after whitespace, case-insensitive) and then a space or '>' is refused.
SCRIPTABLE_TAGS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<svg",
    b"<object",
    b"<embed",
)
SCRIPTABLE_PREFIXES = (b"<!--", b"<?xml")


@dataclass(frozen=True)
class FileType:
    """What the bytes are: ``kind`` (image, pdf, doc, docx, text), the extension the file is
    stored and named with, its content type; for images the width and height as shown
    (upright: EXIF orientation applied)."""

    kind: str
    extension: str
    content_type: str
    width: int | None = None
    height: int | None = None


def _head(fileobj: BinaryIO, n: int = 512) -> bytes:
    fileobj.seek(0)
    head = fileobj.read(n)
    fileobj.seek(0)
    return head


def _image(fileobj: BinaryIO, max_pixels: int) -> FileType:
    """Open, verify and fully decode the image, refusing decompression bombs first."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(fileobj) as img:
                fmt = img.format or ""
                width, height = img.size
                if width * height > max_pixels:
                    raise FileRefused(
                        "image_too_large",
                        f"The image has {width}x{height} pixels; this server accepts at most "
                        f"{max_pixels} (SEEME_MAX_IMAGE_PIXELS).",
                    )
                img.verify()
            fileobj.seek(0)
            with Image.open(fileobj) as img:
                img.load()  # a truncated or corrupt image fails here
                if img.getexif().get(EXIF_ORIENTATION) in TURNED:
                    width, height = height, width  # as shown: upright
    except FileRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FileRefused("image_too_large", f"The image is too large to decode: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, RuntimeError) as exc:
        raise FileRefused("corrupt_image", f"The image could not be decoded: {exc}") from exc
    finally:
        fileobj.seek(0)
    if fmt not in IMAGE_FORMATS:
        raise FileRefused("unsupported_type", f"Images in {fmt or 'this'} format are not accepted.")
    extension, content_type = IMAGE_FORMATS[fmt]
    return FileType("image", extension, content_type, width, height)


def _contains(fileobj: BinaryIO, needle: bytes) -> bool:
    fileobj.seek(0)
    tail = b""
    while chunk := fileobj.read(CHUNK):
        if needle in tail + chunk:
            fileobj.seek(0)
            return True
        tail = chunk[-len(needle) :]
    fileobj.seek(0)
    return False


def _docx(fileobj: BinaryIO) -> FileType:
    """A zip is accepted only as a Word document; only its directory is read."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused("unsupported_type", "The file is a broken zip archive.") from exc
    finally:
        fileobj.seek(0)
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return FileType("docx", "docx", DOCX_TYPE)
    raise FileRefused(
        "unsupported_type", "Zip archives are not item files (only .docx documents are)."
    )


def _scriptable(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\n\r\x0c").lower()
    if start.startswith(SCRIPTABLE_PREFIXES):
        return True
    for tag in SCRIPTABLE_TAGS:
        if start.startswith(tag) and start[len(tag) : len(tag) + 1] in (b" ", b">"):
            return True
    return False


def _text(fileobj: BinaryIO) -> FileType:
    """UTF-8 without NUL bytes, not something a browser would run."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    fileobj.seek(0)
    try:
        while chunk := fileobj.read(CHUNK):
            if b"\x00" in chunk:
                raise FileRefused("unsupported_type", "The file is binary and of no accepted type.")
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "unsupported_type",
            "The file is of no accepted type (images, PDF, Word, UTF-8 text).",
        ) from exc
    finally:
        fileobj.seek(0)
    if _scriptable(_head(fileobj, 4096)):
        raise FileRefused(
            "scriptable", "HTML, SVG and XML files are not accepted: a browser could run them."
        )
    return FileType("text", "txt", "text/plain; charset=utf-8")


def detect(fileobj: BinaryIO, *, max_pixels: int) -> FileType:
    """The type of the file's bytes, or ``FileRefused`` saying why it is not accepted."""
    head = _head(fileobj, 16)
    if not head:
        raise FileRefused("empty", "The file is empty.")
    if (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")
        or head.startswith((b"GIF87a", b"GIF89a"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    ):
        return _image(fileobj, max_pixels)
    if head.startswith(b"%PDF-"):
        return FileType("pdf", "pdf", "application/pdf")
    if head.startswith(OLE2_MAGIC):
        if _contains(fileobj, WORD_STREAM):
            return FileType("doc", "doc", "application/msword")
        raise FileRefused("unsupported_type", "Office files other than Word are not accepted.")
    if head.startswith(b"PK\x03\x04"):
        return _docx(fileobj)
    return _text(fileobj)
