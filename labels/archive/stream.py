"""A zip written as a stream: ``zipfile`` writes into a sink that is drained after every
chunk, so an export's memory does not grow with its size (entries carry data descriptors;
sizes go to the central directory at the end).

``zipfile`` keeps every entry's ``ZipInfo`` (about 1 KB) until it writes the central
directory at ``close()``: 100 MB for 100,000 files. Here each entry's central-directory
record is written to a spill file (memory, then disk) as soon as the entry is done, the
``ZipInfo`` dropped, and the directory and end records are streamed from the spill at the
end: memory stays flat whatever the number of entries. The record layout is zipfile's own
(``_write_end_record``), with its constants.
"""

import struct
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

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


Z: Any = zipfile  # its record layouts and constants are module-private


def central_record(info: zipfile.ZipInfo) -> bytes:
    """The central-directory record of a written entry (as ``ZipFile._write_end_record``)."""
    dt = info.date_time
    dosdate = (dt[0] - 1980) << 9 | dt[1] << 5 | dt[2]
    dostime = dt[3] << 11 | dt[4] << 5 | (dt[5] // 2)
    extra: list[int] = []
    file_size, compress_size, header_offset = info.file_size, info.compress_size, info.header_offset
    if file_size > Z.ZIP64_LIMIT or compress_size > Z.ZIP64_LIMIT:
        extra += [file_size, compress_size]
        file_size = compress_size = 0xFFFFFFFF
    if header_offset > Z.ZIP64_LIMIT:
        extra.append(header_offset)
        header_offset = 0xFFFFFFFF
    extra_data = info.extra
    min_version = 0
    if extra:
        extra_data = struct.pack("<HH" + "Q" * len(extra), 1, 8 * len(extra), *extra) + (
            Z._strip_extra(extra_data, (1,))
        )
        min_version = Z.ZIP64_VERSION
    if info.compress_type == zipfile.ZIP_BZIP2:
        min_version = max(Z.BZIP2_VERSION, min_version)
    elif info.compress_type == zipfile.ZIP_LZMA:
        min_version = max(Z.LZMA_VERSION, min_version)
    filename, flag_bits = info._encodeFilenameFlags()  # type: ignore[attr-defined]
    record = struct.pack(
        Z.structCentralDir,
        Z.stringCentralDir,
        max(min_version, info.create_version),
        info.create_system,
        max(min_version, info.extract_version),
        info.reserved,
        flag_bits,
        info.compress_type,
        dostime,
        dosdate,
        info.CRC,
        compress_size,
        file_size,
        len(filename),
        len(extra_data),
        len(info.comment),
        0,
        info.internal_attr,
        info.external_attr,
        header_offset,
    )
    return record + filename + extra_data + info.comment


def end_records(count: int, size: int, offset: int) -> bytes:
    """The (ZIP64 and) end-of-archive records after a central directory of ``count``
    entries and ``size`` bytes starting at ``offset``."""
    out = b""
    if count > Z.ZIP_FILECOUNT_LIMIT or offset > Z.ZIP64_LIMIT or size > Z.ZIP64_LIMIT:
        out += struct.pack(
            Z.structEndArchive64, Z.stringEndArchive64, 44, 45, 45, 0, 0, count, count, size, offset
        )
        out += struct.pack(
            Z.structEndArchive64Locator, Z.stringEndArchive64Locator, 0, offset + size, 1
        )
        count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
    return out + struct.pack(
        Z.structEndArchive, Z.stringEndArchive, 0, 0, count, count, size, offset, 0
    )


class ZipStream:
    """``for chunk in ZipStream().run(entries)``: ``entries`` yields (path, chunks) pairs,
    ``chunks`` being an iterable of bytes, or None for a directory entry."""

    def __init__(self) -> None:
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", allowZip64=True)  # type: ignore[call-overload]
        self.stamp = datetime.now().timetuple()[:6]
        self.directory = tempfile.SpooledTemporaryFile(max_size=4 << 20)
        self.count = 0

    def _spill(self) -> None:
        """Move the finished entries' records out of zipfile's memory into the spill."""
        for info in self.zip.filelist:
            self.directory.write(central_record(info))
            self.count += 1
        self.zip.filelist.clear()
        self.zip.NameToInfo.clear()

    def _finish(self) -> Iterator[bytes]:
        """The central directory (from the spill) and the end records; the zip closed."""
        self._spill()
        offset = self.sink.position
        size = self.directory.tell()
        self.directory.seek(0)
        while chunk := self.directory.read(CHUNK):
            yield chunk
        self.directory.close()
        yield end_records(self.count, size, offset)
        self.zip.fp = None  # written: nothing left for zipfile's close()

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
            self._spill()
            data = self.sink.drain()
            if data:
                yield data
        yield from self._finish()


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
