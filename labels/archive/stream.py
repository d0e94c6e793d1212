"""A zip written as a stream: ``zipfile`` writes into a sink that is drained after every
chunk, so an export's memory does not grow with its size (entries carry data descriptors;
sizes go to the central directory at the end)."""

import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime

CHUNK = 1 << 16
# Already-compressed files are stored as they are; documents are deflated.
STORED_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "webp", "docx", "pdf", "zip"}


class _Sink:
    """The file object zipfile writes to: remembers its position, keeps what was written
    until ``drain``."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


class ZipStream:
    """``for chunk in ZipStream().run(entries)``: ``entries`` yields (path, chunks) pairs,
    ``chunks`` being an iterable of bytes, or None for a directory entry."""

    def __init__(self) -> None:
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", allowZip64=True)  # type: ignore[call-overload]
        self.stamp = datetime.now().timetuple()[:6]

    def run(self, entries: Iterable[tuple[str, Iterable[bytes] | None]]) -> Iterator[bytes]:
        for path, chunks in entries:
            if chunks is None:
                self.zip.writestr(zipfile.ZipInfo(path.rstrip("/") + "/", self.stamp), b"")
            else:
                info = zipfile.ZipInfo(path, self.stamp)
                ext = path.rpartition(".")[2].lower()
                info.compress_type = (
                    zipfile.ZIP_STORED if ext in STORED_EXTENSIONS else zipfile.ZIP_DEFLATED
                )
                with self.zip.open(info, "w", force_zip64=True) as dest:
                    for chunk in chunks:
                        dest.write(chunk)
                        if self.sink.position and len(self.sink.chunks) > 16:
                            yield self.sink.drain()
            data = self.sink.drain()
            if data:
                yield data
        self.zip.close()
        yield self.sink.drain()


def text_chunks(lines: Iterable[str], size: int = CHUNK) -> Iterator[bytes]:
    """Lines of text as UTF-8 chunks of about ``size`` bytes."""
    buffer: list[bytes] = []
    held = 0
    for line in lines:
        data = line.encode()
        buffer.append(data)
        held += len(data)
        if held >= size:
            yield b"".join(buffer)
            buffer, held = [], 0
    if buffer:
        yield b"".join(buffer)
