"""The ``yolo`` format: ``<split>.txt`` at the root lists the split's images; each image
``N.jpg`` has ``N.txt`` beside it with one box a line (``label_index cx cy w h``, relative
0-1); one ``.names`` file names the labels (line number = index); ``config.json`` may hold
``{"colors": {"<label>": "#rrggbb"}}``."""

import io
import json
import math
import re

from labels.archive.content import check_file
from labels.archive.plan import ImportPlan, PlannedItem, box_coordinates
from labels.archive.safety import Entry, SafeArchive

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def read_lines(archive: SafeArchive, entry: Entry, plan: ImportPlan) -> list[str] | None:
    data = archive.read_document(entry, plan.problems)
    if data is None:
        return None
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        plan.problem(entry.path, f"not UTF-8 text (byte {exc.start})")
        return None


def read_colors(archive: SafeArchive, plan: ImportPlan) -> None:
    """``config.json``'s colours, when there is one."""
    entry = archive.by_path.get("config.json")
    if entry is None:
        return
    data = archive.read_document(entry, plan.problems)
    if data is None:
        return
    try:
        config = json.loads(data)
    except ValueError as exc:
        plan.problem(entry.path, f"not valid JSON ({exc})")
        return
    colors = config.get("colors", {}) if isinstance(config, dict) else None
    if not isinstance(colors, dict):
        plan.problem(entry.path, '"colors" must be an object of label name to "#rrggbb"')
        return
    for name, color in colors.items():
        if not isinstance(color, str) or not COLOR.match(color):
            plan.problem(entry.path, f"colour of {name!r} is not #rrggbb")
        elif name:
            plan.colors[name] = color.lower()


def _box(parts: list[str], names: list[str]) -> tuple[str, str] | str:
    """(label name, coordinates) of a YOLO line, or the reason it is refused."""
    if len(parts) != 5:
        return f"expected 'label_index cx cy w h', got {len(parts)} fields"
    try:
        index = int(parts[0])
        cx, cy, w, h = (float(v) for v in parts[1:])
    except ValueError:
        return "not numbers"
    if not 0 <= index < len(names):
        return f"unknown label index {index} (the .names file has {len(names)} labels)"
    if not all(math.isfinite(v) and 0 <= v <= 1 for v in (cx, cy, w, h)):
        return "box values must be between 0 and 1"
    x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    if min(x1, y1) < -1e-6 or max(x2, y2) > 1 + 1e-6:
        return "box reaches outside the image"
    clip = [min(max(v, 0.0), 1.0) for v in (x1, y1, x2, y2)]
    return names[index], box_coordinates(*clip)


def parse_yolo(archive: SafeArchive, plan: ImportPlan) -> None:
    root_files = [e for e in archive.files() if "/" not in e.path]
    name_files = [e for e in root_files if e.path.endswith(".names")]
    if len(name_files) != 1:
        plan.problem("", f"expected one .names file at the root, found {len(name_files)}")
        return
    names = [n.strip() for n in read_lines(archive, name_files[0], plan) or []]
    while names and not names[-1]:
        names.pop()
    for n, name in enumerate(names, start=1):
        if not name:
            plan.problem(name_files[0].path, "empty label name", n)
    for name in names:
        plan.add_label(name)
    read_colors(archive, plan)
    lists = [e for e in root_files if e.path.endswith(".txt")]
    used: set[str] = {e.path for e in root_files}
    for listing in lists:
        split = listing.path[: -len(".txt")]
        plan.add_split(split)
        seen: set[str] = set()
        for n, raw in enumerate(read_lines(archive, listing, plan) or [], start=1):
            path = raw.strip().removeprefix("./")
            if not path:
                continue
            image = archive.by_path.get(path)
            if image is None and path.startswith("data/"):  # CVAT's lists say data/<path>
                image = archive.by_path.get(path.removeprefix("data/"))
                path = path.removeprefix("data/")
            if image is None or image.is_dir:
                plan.problem(listing.path, f"lists {path!r}, which is not in the archive", n)
                continue
            if path in seen:
                plan.problem(listing.path, f"lists {path!r} twice", n)
                continue
            seen.add(path)
            used.add(path)
            _parse_image(archive, plan, image, split, names)
    for entry in archive.files():
        if entry.path in used or entry.path.endswith((".txt", ".data", ".yaml")):
            continue
        plan.problem(entry.path, "not listed in any <split>.txt")


def _parse_image(
    archive: SafeArchive, plan: ImportPlan, image: Entry, split: str, names: list[str]
) -> None:
    checked = check_file(archive, image, plan)
    if checked is None:
        return
    stem = image.path.rpartition(".")[0]
    item = PlannedItem(
        entry=image.path,
        name=image.path.rsplit("/", 1)[-1],
        splits=[split],
        extension=checked[0],
        text=checked[1],
        file_entry="" if checked[0] == "txt" else image.path,
    )
    boxes = archive.by_path.get(stem + ".txt")
    if boxes is not None and boxes is not image:
        with archive.open_entry(boxes) as stream:
            lines = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
            for n, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                box = _box(line.split(), names)
                if isinstance(box, str):
                    plan.problem(boxes.path, box, n)
                else:
                    item.annotations.append((split, box[0], box[1]))
    plan.items.append(item)
