"""Small real files for the file tests, made with Pillow and by hand."""

import io
import zipfile

from PIL import Image


def image_bytes(
    fmt: str = "JPEG", size=(40, 30), color=(200, 30, 30), exif_orientation: int | None = None
) -> bytes:
    img = Image.new("RGBA" if fmt in ("PNG", "WEBP") else "RGB", size, color)
    out = io.BytesIO()
    kwargs = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def jpeg(**kw) -> bytes:
    return image_bytes("JPEG", **kw)


def png(**kw) -> bytes:
    return image_bytes("PNG", **kw)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "WordDocument".encode("utf-16-le")
TEXT = "Hello, wörld.\nA second line.\n".encode()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("a.txt", "a")
    return out.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
BARE_SVG = b'  <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
BINARY = b"\x00\x01\x02\x03garbage\xff\xfe"


def truncated_jpeg() -> bytes:
    data = jpeg(size=(200, 200))
    return data[: len(data) // 2]


def bomb_png(width: int = 10_000, height: int = 10_000) -> bytes:
    """A PNG that declares many pixels but compresses to almost nothing."""
    img = Image.new("1", (width, height), 0)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
