"""Building archives for the tests: good ones, and hostile ones byte by byte."""

import io
import json
import zipfile

from PIL import Image


def make_zip(entries: dict, *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``{path: bytes | str | None}`` (None: a directory entry)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for path, data in entries.items():
            if data is None:
                zf.writestr(zipfile.ZipInfo(path.rstrip("/") + "/"), b"")
            else:
                zf.writestr(path, data.encode() if isinstance(data, str) else data)
    return buffer.getvalue()


def png(color=(200, 30, 30), size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(color=(30, 200, 30), size=(8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def csv_zip(rows: str, **config) -> bytes:
    conf = {"filename": "data.csv", **config}
    return make_zip({"config.json": json.dumps(conf), conf["filename"]: rows})
