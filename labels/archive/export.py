"""Exports of a version (or one split) as a streamed zip, in the four import formats plus
COCO JSON and a manifest (CSV and/or JSONL).

Each writer yields (path, chunks) entries from ``ExportScope`` rows, so memory stays flat
whatever the version's size. An item's content is its stored file, else its text (as
``.txt``); items with neither are left out of the file-based formats (the manifest lists
them). Names that cannot be paths (``/``, control characters, empty) are made safe.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from labels.archive import files
from labels.archive.plan import parse_region
from labels.archive.rows import ExportScope, Row
from labels.archive.stream import ZipStream, text_chunks
from labels.regions import region_box

EXPORT_FORMATS = (
    "folders",
    "yolo",
    "csv",
    "spacy-ner",
    "coco",
    "manifest",
    "manifest-csv",
    "manifest-jsonl",
)
Entries = Iterator[tuple[str, Iterable[bytes] | None]]


def relative_box(coordinates: str, row: Row) -> tuple[float, float, float, float] | None:
    """A box region as relative ``(x1, y1, x2, y2)``: read like the item page reads it
    (``labels.regions``: JSON or separated numbers, relative or pixels of the image, clipped);
    None for what is not a box (a span, a whole-item label, pixels of an unknown size)."""
    width, height = files.image_size(row)
    if width and height:
        box = region_box(coordinates, width, height)
        if box is None:
            return None
        return (
            box.x / width,
            box.y / height,
            (box.x + box.width) / width,
            (box.y + box.height) / height,
        )
    numbers = parse_region(coordinates)
    if numbers is None or len(numbers) != 4 or not all(0 <= v <= 1 for v in numbers):
        return None
    x1, y1, x2, y2 = numbers
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def safe_name(name: str, fallback: str) -> str:
    """A name usable as one path component."""
    cleaned = "".join("_" if c in "/\\" or ord(c) < 32 else c for c in name).strip()
    return fallback if cleaned in ("", ".", "..") else cleaned


def file_name(row: Row, *, unique: bool = True) -> str:
    """The file name of an item in an export: its name, with its extension (``txt`` for a
    text item) when the name lacks it; its id added when the name is not ``unique``."""
    ext = row.extension if files.has_file(row) else "txt"
    name = safe_name(row.name, str(row.item_id))
    if ext and not name.lower().endswith("." + ext.lower()):
        name = f"{name}.{ext}"
    if not unique:
        stem, dot, tail = name.rpartition(".")
        tag = str(row.item_id)[:8]
        name = f"{stem}~{tag}.{tail}" if dot and stem else f"{name}~{tag}"
    return name


def content(row: Row) -> Iterable[bytes] | None:
    """The bytes an item exports as: its stored file, else its text, else None."""
    stream = files.open_file(row)
    if stream is not None:
        return files.chunks(stream)
    if row.text:
        return [row.text.encode()]
    return None


def export_zip(scope: ExportScope, fmt: str) -> Iterator[bytes]:
    """The zip of ``scope`` in ``fmt``, as a stream of byte chunks."""
    writer = {
        "folders": folders_entries,
        "yolo": yolo_entries,
        "csv": csv_entries,
        "spacy-ner": spacy_entries,
        "coco": coco_entries,
        "manifest": lambda s: manifest_entries(s, ("csv", "jsonl")),
        "manifest-csv": lambda s: manifest_entries(s, ("csv",)),
        "manifest-jsonl": lambda s: manifest_entries(s, ("jsonl",)),
    }[fmt]
    return ZipStream().run(writer(scope))


# -- folders ------------------------------------------------------------------------------


def folders_entries(scope: ExportScope) -> Entries:
    names = scope.label_names
    for split in scope.splits:
        top = safe_name(split.name, str(split.pk))
        yield top, None
        for label in scope.labels:
            yield f"{top}/{safe_name(label.name, str(label.pk))}", None
        repeated = scope.repeated_names(split)
        for row in scope.rows(split):
            data = content(row)
            if data is None:
                continue
            fname = file_name(row, unique=row.name not in repeated)
            whole = list(dict.fromkeys(names[lb] for lb, coords in row.annotations if not coords))
            if not whole:
                yield f"{top}/{fname}", data
                continue
            data = list(data) if len(whole) > 1 else data
            for label_name in whole:
                yield f"{top}/{safe_name(label_name, label_name)}/{fname}", data


# -- yolo ---------------------------------------------------------------------------------


def _colors(scope: ExportScope) -> bytes:
    return json.dumps({"colors": {lb.name: lb.color for lb in scope.labels}}, indent=2).encode()


def yolo_entries(scope: ExportScope) -> Entries:
    index = {label.pk: n for n, label in enumerate(scope.labels)}
    yield "obj.names", ["".join(f"{label.name}\n" for label in scope.labels).encode()]
    yield "config.json", [_colors(scope)]
    for split in scope.splits:
        top = safe_name(split.name, str(split.pk))

        def image_path(row: Row, top=top) -> str:
            return f"{top}/{row.item_id}.{row.extension or 'jpg'}"

        # The list first, from its own pass over the rows: nothing per item is held.
        listing = (image_path(row) + "\n" for row in scope.rows(split) if files.has_file(row))
        yield f"{top}.txt", text_chunks(listing)
        for row in scope.rows(split):
            stream = files.open_file(row)
            if stream is None:
                continue
            yield image_path(row), files.chunks(stream)
            lines = []
            for label_id, coordinates in row.annotations:
                box = relative_box(coordinates, row)
                if box is None:
                    continue
                x1, y1, x2, y2 = box
                cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
                lines.append(f"{index[label_id]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
            yield f"{top}/{row.item_id}.txt", ["".join(lines).encode()]


# -- csv ----------------------------------------------------------------------------------


def _label_separator(scope: ExportScope) -> str:
    for candidate in (" ", "|", ";", "\t"):
        if not any(candidate in label.name for label in scope.labels):
            return candidate
    return " "


def _tabular(scope: ExportScope) -> bool:
    return scope.version.dataset.content_type == "tabular"


def _columns(scope: ExportScope) -> list[str]:
    if not _tabular(scope):
        return ["name", "text"]
    keys: dict[str, None] = {}
    for row in scope.all_rows():
        keys.update(dict.fromkeys(_row_fields(row)))
    return list(keys)


def _row_fields(row: Row) -> dict:
    try:
        value = json.loads(row.text) if row.text else {}
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"text": row.text}


def csv_entries(scope: ExportScope) -> Entries:
    version_id = str(scope.version.pk)
    columns = _columns(scope)
    split_column = "split" if "split" not in columns else "split_"
    label_column = "labels" if "labels" not in columns else "labels_"
    separator = _label_separator(scope)
    config = {
        "filename": f"{version_id}.csv",
        "csv_separator": ",",
        "split_column": split_column,
        "label_column": label_column,
        "label_separator": separator,
        "multi_label": scope.version.dataset.multi_label,
    }
    yield "config.json", [json.dumps(config, indent=4).encode()]
    names = scope.label_names
    order = {label.pk: n for n, label in enumerate(scope.labels)}  # labels in index order
    tabular = _tabular(scope)

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*columns, split_column, label_column])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        for row in scope.all_rows():
            fields = _row_fields(row) if tabular else {"name": row.name, "text": row.text}
            labels = [
                names[lb]
                for lb in sorted({lb for lb, _ in row.annotations}, key=lambda lb: order[lb])
            ]
            split = row.split.name if row.split is not None else ""
            values = [_cell(fields.get(c, "")) for c in columns]
            writer.writerow([*values, split, separator.join(labels)])
            yield out.getvalue()
            out.seek(0)
            out.truncate()

    yield f"{version_id}.csv", text_chunks(lines())


def _cell(value) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


# -- spacy-ner ----------------------------------------------------------------------------


def spacy_entries(scope: ExportScope) -> Entries:
    names = scope.label_names
    yield "config.json", [_colors(scope)]
    for split in scope.splits:

        def pairs(split=split) -> Iterator[str]:
            yield "["
            first = True
            for row in scope.rows(split):
                entities = []
                for label_id, coordinates in row.annotations:
                    span = parse_region(coordinates)
                    if span is not None and len(span) == 2:
                        entities.append([int(span[0]), int(span[1]), names[label_id]])
                pair = json.dumps([row.text, {"entities": entities}], ensure_ascii=False)
                yield ("\n" if first else ",\n") + pair
                first = False
            yield "\n]\n"

        yield f"{safe_name(split.name, str(split.pk))}.json", text_chunks(pairs())


# -- coco ---------------------------------------------------------------------------------


def coco_entries(scope: ExportScope) -> Entries:
    """Per split ``annotations/<split>.json`` (COCO: images, annotations in pixels,
    categories numbered from 1 in label order) and the images under ``images/<split>/``.
    Image ids count the split's items with a file, in the same order in every pass, so
    nothing per item is held in memory."""
    categories = [{"id": n, "name": lb.name} for n, lb in enumerate(scope.labels, start=1)]
    category = {label.pk: n for n, label in enumerate(scope.labels, start=1)}
    for split in scope.splits:
        top = safe_name(split.name, str(split.pk))

        def image_path(row: Row, top=top) -> str:
            return f"images/{top}/{row.item_id}.{row.extension or 'jpg'}"

        for row in scope.rows(split):
            stream = files.open_file(row)
            if stream is not None:
                yield image_path(row), files.chunks(stream)

        def document(split=split, image_path=image_path) -> Iterator[str]:
            yield '{"images": ['
            n = 0
            for row in scope.rows(split):
                if not files.has_file(row):
                    continue
                n += 1
                w, h = files.image_size(row)
                image = {"id": n, "file_name": image_path(row), "width": w, "height": h}
                yield ("" if n == 1 else ",") + json.dumps(image)
            yield '], "annotations": ['
            n = done = 0
            for row in scope.rows(split):
                if not files.has_file(row):
                    continue
                n += 1
                w, h = files.image_size(row)
                for label_id, coordinates in row.annotations:
                    box = relative_box(coordinates, row)
                    if box is None:
                        continue
                    x, y = box[0] * w, box[1] * h
                    bw, bh = (box[2] - box[0]) * w, (box[3] - box[1]) * h
                    done += 1
                    annotation = {
                        "id": done,
                        "image_id": n,
                        "category_id": category[label_id],
                        "bbox": [round(v, 2) for v in (x, y, bw, bh)],
                        "area": round(bw * bh, 2),
                        "iscrowd": 0,
                    }
                    yield ("" if done == 1 else ",") + json.dumps(annotation)
            yield '], "categories": ' + json.dumps(categories) + "}\n"

        yield f"annotations/{top}.json", text_chunks(document())


# -- manifest -----------------------------------------------------------------------------


def path_of(row: Row) -> str:
    """Where the manifest puts an item's file ("" when it has none)."""
    return f"files/{row.item_id}.{row.extension or 'bin'}" if files.has_file(row) else ""


def manifest_entries(scope: ExportScope, kinds: tuple[str, ...]) -> Entries:
    """``manifest.csv`` / ``manifest.jsonl``: one line per item and split (item, name,
    file, split, labels, regions), and the items' files under ``files/``."""
    names = scope.label_names

    def record(row: Row, path: str) -> dict:
        return {
            "item_id": str(row.item_id),
            "name": row.name,
            "file": path,
            "split": row.split.name if row.split is not None else "",
            "labels": list(dict.fromkeys(names[lb] for lb, c in row.annotations if not c)),
            "regions": [{"label": names[lb], "coordinates": c} for lb, c in row.annotations if c],
        }

    for row in scope.distinct_rows():
        stream = files.open_file(row)
        if stream is not None:
            yield path_of(row), files.chunks(stream)

    if "jsonl" in kinds:
        yield (
            "manifest.jsonl",
            text_chunks(
                json.dumps(record(row, path_of(row)), ensure_ascii=False) + "\n"
                for row in scope.all_rows()
            ),
        )
    if "csv" in kinds:

        def lines() -> Iterator[str]:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["item_id", "name", "file", "split", "labels", "regions"])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            for row in scope.all_rows():
                r = record(row, path_of(row))
                writer.writerow(
                    [
                        r["item_id"],
                        r["name"],
                        r["file"],
                        r["split"],
                        "|".join(r["labels"]),
                        json.dumps(r["regions"]) if r["regions"] else "",
                    ]
                )
                yield out.getvalue()
                out.seek(0)
                out.truncate()

        yield "manifest.csv", text_chunks(lines())
