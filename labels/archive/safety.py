"""A zip reader that treats every archive as hostile until its central directory is checked.

``SafeArchive.open(fileobj)`` reads only the central directory (the entries' names, sizes
and attributes), checks all of it against the limits in settings, and records every problem
found (entry path, reason) instead of stopping at the first. Entries are then read one at a
time as streams (``open_entry``): the archive is never loaded into memory, and ``zipfile``
never inflates an entry past the size its header declares (so the declared sizes, checked
here, bound the work), and checks each entry's CRC at its end.

Refused: paths that are absolute or climb out of the root, backslashes and control
characters, links and other special files, duplicate names, names that are not UTF-8,
encrypted entries, unknown compression methods, overlapping entries, more entries than
``SEEME_ARCHIVE_MAX_ENTRIES``, more unpacked bytes than ``SEEME_ARCHIVE_MAX_UNPACKED_MB``,
and entries (or the whole archive) whose compression ratio passes ``SEEME_ARCHIVE_MAX_RATIO``.
"""

import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings

# Small entries compress far past any sane ratio (an empty line, a run of zeros in a tiny
# file) without being a bomb: the ratio is only checked above these sizes.
RATIO_FLOOR_ENTRY = 1 << 20
RATIO_FLOOR_TOTAL = 8 << 20
# Files that archivers add on their own; skipped, never imported and never a problem.
JUNK_PREFIXES = ("__MACOSX/",)
JUNK_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
UTF8_FLAG = 0x800


def limits() -> dict[str, int]:
    """The archive limits in force (settings, with safe defaults)."""
    return {
        "max_entries": int(getattr(settings, "SEEME_ARCHIVE_MAX_ENTRIES", 250_000)),
        "max_unpacked": int(getattr(settings, "SEEME_ARCHIVE_MAX_UNPACKED_MB", 4096)) << 20,
        "max_ratio": int(getattr(settings, "SEEME_ARCHIVE_MAX_RATIO", 200)),
        "max_document": int(getattr(settings, "SEEME_ARCHIVE_MAX_DOCUMENT_MB", 256)) << 20,
    }


@dataclass(frozen=True, slots=True)
class Problem:
    """Why (part of) an archive cannot be imported: the entry, a line in it (1-based, or
    None for the whole entry) and a sentence."""

    entry: str
    line: int | None
    reason: str

    def as_dict(self) -> dict:
        return {"entry": self.entry, "line": self.line, "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.entry}, line {self.line}" if self.line else self.entry or "archive"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Entry:
    """A checked entry of the archive: its normalised path, whether it is a directory, and
    its declared unpacked size."""

    path: str
    is_dir: bool
    size: int
    info: zipfile.ZipInfo


def _utf8_name(info: zipfile.ZipInfo) -> str | None:
    """The entry's name as UTF-8, or None when its bytes are not UTF-8."""
    if info.flag_bits & UTF8_FLAG or info.filename.isascii():
        return info.filename
    try:  # zipfile decoded the raw bytes as cp437: undo that and try UTF-8
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _path_problem(name: str) -> str | None:
    if not name:
        return "empty entry name"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "control character in the entry name"
    if "\\" in name:
        return "backslash in the entry path"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    parts = name.rstrip("/").split("/")
    if any(p == ".." for p in parts):
        return "path climbs out of the archive root (..)"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' component in the entry path"
    return None


def _file_type_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if info.create_system != 3 or not mode:  # only Unix archivers record a file type
        return None
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "special file (device, pipe or socket)"
    return None


def _is_junk(name: str) -> bool:
    return name.startswith(JUNK_PREFIXES) or name.rsplit("/", 1)[-1] in JUNK_NAMES


class SafeArchive:
    """A zip archive whose central directory passed (or failed) the checks.

    ``problems`` lists everything refused; ``entries`` the entries that passed, in archive
    order, junk (``__MACOSX/``, ``.DS_Store``) left out.
    """

    def __init__(self, zf: zipfile.ZipFile | None, problems: list[Problem]) -> None:
        self._zip = zf
        self.problems = problems
        self.entries: list[Entry] = []
        self.by_path: dict[str, Entry] = {}
        # Archive-wide refusals (size, ratio, entry count, overlap): no entry is read then.
        self.fatal = zf is None

    @classmethod
    def open(cls, fileobj: IO[bytes]) -> "SafeArchive":
        """Read and check the central directory of the zip in ``fileobj`` (seekable)."""
        try:
            zf = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            return cls(None, [Problem("", None, f"not a zip archive ({exc})")])
        archive = cls(zf, [])
        archive._check(zf.infolist())
        return archive

    def _check(self, infos: list[zipfile.ZipInfo]) -> None:
        lim = limits()
        add = self.problems.append
        if len(infos) > lim["max_entries"]:
            add(Problem("", None, f"{len(infos)} entries, more than {lim['max_entries']}"))
            self.fatal = True
            return
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos)
        if total > lim["max_unpacked"]:
            add(
                Problem(
                    "",
                    None,
                    f"unpacks to {total} bytes, more than {lim['max_unpacked']} "
                    "(SEEME_ARCHIVE_MAX_UNPACKED_MB)",
                )
            )
            self.fatal = True
        if total > RATIO_FLOOR_TOTAL and total > lim["max_ratio"] * max(packed, 1):
            add(Problem("", None, f"compression ratio over {lim['max_ratio']} (zip bomb?)"))
            self.fatal = True
        seen: set[str] = set()
        for info in infos:
            name = _utf8_name(info)
            if name is None:
                add(Problem(repr(info.filename), None, "entry name is not UTF-8"))
                continue
            if _is_junk(name):
                continue
            reason = (
                _path_problem(name)
                or _file_type_problem(info)
                or ("encrypted entry" if info.flag_bits & 0x1 else None)
                or (
                    f"unsupported compression method {info.compress_type}"
                    if info.compress_type not in SUPPORTED_METHODS
                    else None
                )
            )
            if reason is None and (
                info.file_size > RATIO_FLOOR_ENTRY
                and info.file_size > lim["max_ratio"] * max(info.compress_size, 1)
            ):
                reason = f"compression ratio over {lim['max_ratio']} (zip bomb?)"
            key = name.rstrip("/")
            if reason is None and key in seen:
                reason = "duplicate entry name"
            if reason:
                add(Problem(name, None, reason))
                continue
            seen.add(key)
            entry = Entry(key, info.is_dir(), info.file_size, info)
            self.entries.append(entry)
            self.by_path[key] = entry
        self._check_overlap(infos)

    def _check_overlap(self, infos: list[zipfile.ZipInfo]) -> None:
        """Entries whose data overlap (the "better zip bomb") are refused: each entry's data
        must end before the next entry's local header begins."""
        ordered = sorted(infos, key=lambda i: i.header_offset)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.header_offset + 30 + a.compress_size > b.header_offset:
                self.problems.append(Problem(b.filename, None, "overlaps another entry"))
                self.fatal = True
                return

    @property
    def readable(self) -> bool:
        """Whether the entries that passed may be read (no archive-wide refusal)."""
        return not self.fatal

    def strip_top_folder(self) -> str:
        """When every entry sits in one top folder (``data/train/cat/1.png``, as zipping a
        folder gives), re-root the archive inside it and return its name; else "". Entry
        paths in problems then read from the new root."""
        tops = {e.path.split("/", 1)[0] for e in self.entries}
        if len(tops) != 1 or not any("/" in e.path for e in self.files()):
            return ""
        (top,) = tops
        if any(e.path == top and not e.is_dir for e in self.entries):
            return ""
        prefix = top + "/"
        self.entries = [
            Entry(e.path[len(prefix) :], e.is_dir, e.size, e.info)
            for e in self.entries
            if e.path != top
        ]
        self.by_path = {e.path: e for e in self.entries}
        return top

    def files(self) -> Iterator[Entry]:
        """The file entries (not directories), in archive order."""
        return (e for e in self.entries if not e.is_dir)

    def open_entry(self, entry: Entry) -> IO[bytes]:
        """A stream of the entry's bytes (bounded by its declared size, CRC-checked)."""
        assert self._zip is not None
        return self._zip.open(entry.info)

    def read_document(self, entry: Entry, problems: list[Problem]) -> bytes | None:
        """The whole entry, for the small documents of a format (config.json, a spaCy
        file); None (and a problem) when it passes ``SEEME_ARCHIVE_MAX_DOCUMENT_MB`` or is
        corrupt."""
        limit = limits()["max_document"]
        if entry.size > limit:
            problems.append(
                Problem(
                    entry.path, None, f"larger than {limit} bytes (SEEME_ARCHIVE_MAX_DOCUMENT_MB)"
                )
            )
            return None
        try:
            with self.open_entry(entry) as stream:
                return stream.read()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            problems.append(Problem(entry.path, None, f"corrupt entry ({exc})"))
            return None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
