"""Checks of the files an archive carries: images must decode, text must be UTF-8."""

import warnings
import zipfile

from PIL import Image, UnidentifiedImageError

from labels.archive.plan import ImportPlan
from labels.archive.safety import Entry, SafeArchive

IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff"}
DOCUMENT_EXTENSIONS = {"pdf", "doc", "docx"}
TEXT_EXTENSIONS = {"txt"}
FILE_EXTENSIONS = IMAGE_EXTENSIONS | DOCUMENT_EXTENSIONS | TEXT_EXTENSIONS


def extension_of(name: str) -> str:
    """The lower-case extension of a file name, without the dot ("" when none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def check_image(archive: SafeArchive, entry: Entry, plan: ImportPlan) -> bool:
    """Whether the entry decodes as an image (Pillow's decompression-bomb guard on); a
    problem naming the entry when not."""
    try:
        with archive.open_entry(entry) as stream, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                image.verify()
        return True
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        zipfile.BadZipFile,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ) as exc:
        plan.problem(entry.path, f"broken image ({type(exc).__name__}: {exc})"[:300])
        return False


def read_text(archive: SafeArchive, entry: Entry, plan: ImportPlan) -> str | None:
    """The entry's text (UTF-8; a leading BOM dropped), or None and a problem."""
    data = archive.read_document(entry, plan.problems)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        plan.problem(entry.path, f"text file is not UTF-8 (byte {exc.start})")
        return None


def check_file(archive: SafeArchive, entry: Entry, plan: ImportPlan) -> tuple[str, str] | None:
    """For a file that becomes an item: (extension, text) when acceptable, else None and a
    problem. Text files give their text; images must decode."""
    ext = extension_of(entry.path)
    if ext not in FILE_EXTENSIONS:
        plan.problem(entry.path, f"unsupported file type {('.' + ext) if ext else '(none)'}")
        return None
    if ext in TEXT_EXTENSIONS:
        text = read_text(archive, entry, plan)
        return None if text is None else (ext, text)
    if ext in IMAGE_EXTENSIONS and not check_image(archive, entry, plan):
        return None
    return ext, ""
