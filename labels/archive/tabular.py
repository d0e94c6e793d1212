"""The ``csv`` format: ``config.json`` (``filename``, ``csv_separator``, ``split_column``,
``label_column``, ``label_separator``, ``multi_label``) and the CSV it names, one item per
row. The label cell is split by ``label_separator`` only when ``multi_label`` is true;
otherwise it is one label. On a tabular dataset the row's other columns are kept, in
order, as a JSON object in the item's ``text``; on other datasets the ``name`` and ``text``
columns fill those fields.

Without a split column every row goes to the version's default split (``train`` when it
names none); a row whose split cell is empty is in no split.
"""

import csv
import io
import json

from labels.archive.plan import ImportPlan, PlannedItem
from labels.archive.safety import SafeArchive

DEFAULTS = {
    "filename": "",
    "csv_separator": ",",
    "split_column": "split",
    "label_column": "labels",
    "label_separator": " ",
    "multi_label": False,
}


def read_config(archive: SafeArchive, plan: ImportPlan) -> dict | None:
    config: dict = dict(DEFAULTS)
    entry = archive.by_path.get("config.json")
    if entry is not None:
        data = archive.read_document(entry, plan.problems)
        if data is None:
            return None
        try:
            given = json.loads(data)
        except ValueError as exc:
            plan.problem(entry.path, f"not valid JSON ({exc})")
            return None
        if not isinstance(given, dict):
            plan.problem(entry.path, "must be a JSON object")
            return None
        for key, default in DEFAULTS.items():
            value = given.get(key, default)
            if value is None:
                value = default
            if not isinstance(value, type(default)):
                plan.problem(entry.path, f"{key!r} must be a {type(default).__name__}")
                return None
            config[key] = value
        if len(str(config["csv_separator"])) != 1:
            plan.problem(entry.path, "'csv_separator' must be one character")
            return None
    if not config["filename"]:
        csvs = [e.path for e in archive.files() if e.path.lower().endswith(".csv")]
        if len(csvs) != 1:
            plan.problem("config.json", f"names no CSV file and the archive has {len(csvs)}")
            return None
        config["filename"] = csvs[0]
    return config


def parse_csv(
    archive: SafeArchive, plan: ImportPlan, *, tabular: bool, default_split: str = ""
) -> None:
    config = read_config(archive, plan)
    if config is None:
        return
    name = config["filename"].removeprefix("./")
    entry = archive.by_path.get(name)
    if entry is None or entry.is_dir:
        plan.problem("config.json", f"names {name!r}, which is not in the archive")
        return
    with archive.open_entry(entry) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=config["csv_separator"])
        try:
            _read_rows(reader, entry.path, plan, config, tabular, default_split or "train")
        except UnicodeDecodeError as exc:
            plan.problem(entry.path, f"not UTF-8 text (byte {exc.start})", reader.line_num + 1)
        except csv.Error as exc:
            plan.problem(entry.path, f"unreadable CSV ({exc})", reader.line_num)


def _read_rows(reader, path: str, plan: ImportPlan, config: dict, tabular: bool, default_split):
    header = next(reader, None)
    if header is None:
        plan.problem(path, "empty CSV (no header row)")
        return
    if len(set(header)) != len(header):
        plan.problem(path, "repeated column names in the header", 1)
        return
    split_at = header.index(config["split_column"]) if config["split_column"] in header else None
    label_at = header.index(config["label_column"]) if config["label_column"] in header else None
    data_columns = [i for i in range(len(header)) if i not in (split_at, label_at)]
    if split_at is None:
        plan.add_split(default_split)
    separator = config["label_separator"] or " "
    for n, row in enumerate(reader, start=1):
        line = reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            plan.problem(path, f"{len(row)} columns where the header has {len(header)}", line)
            continue
        split = default_split if split_at is None else row[split_at].strip()
        labels = []
        if label_at is not None and config["multi_label"]:
            labels = list(dict.fromkeys(v.strip() for v in row[label_at].split(separator)))
            labels = [v for v in labels if v]
        elif label_at is not None:  # one label a row: the whole cell, separator or not
            labels = [row[label_at].strip()] if row[label_at].strip() else []
        if split:
            plan.add_split(split)
        for label in labels:
            plan.add_label(label)
        if tabular:
            name = str(n)
            content = json.dumps({header[i]: row[i] for i in data_columns}, ensure_ascii=False)
        else:
            fields = {header[i]: row[i] for i in data_columns}
            name, content = fields.get("name", str(n)), fields.get("text", "")
        plan.items.append(
            PlannedItem(
                entry=path,
                line=line,
                name=name,
                splits=[split] if split else [],
                annotations=[(split, label, "") for label in labels] if split else [],
                text=content,
            )
        )
        if labels and not split:
            plan.problem(path, "labels on a row that is in no split", line)
