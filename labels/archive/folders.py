"""The ``folders`` format: ``<split>/<label>/<file>``; a file right in ``<split>/`` is an
unlabelled member. Copies of one file name in several label folders of a split are one
multi-label item. Directory entries create splits and labels even when empty."""

from labels.archive.content import check_file
from labels.archive.plan import ImportPlan, PlannedItem
from labels.archive.safety import SafeArchive


def parse_folders(archive: SafeArchive, plan: ImportPlan) -> None:
    by_name: dict[tuple[str, str], tuple[PlannedItem, int]] = {}
    for entry in archive.entries:
        parts = entry.path.split("/")
        if entry.is_dir:
            if len(parts) > 2:
                plan.problem(entry.path, "folders nest at most <split>/<label>/")
                continue
            plan.add_split(parts[0])
            if len(parts) == 2:
                plan.add_label(parts[1])
            continue
        if len(parts) == 1:
            plan.problem(entry.path, "a file outside any split folder (expected <split>/...)")
            continue
        if len(parts) > 3:
            plan.problem(entry.path, "folders nest at most <split>/<label>/<file>")
            continue
        split, filename = parts[0], parts[-1]
        label = parts[1] if len(parts) == 3 else None
        plan.add_split(split)
        if label is not None:
            plan.add_label(label)
        known = by_name.get((split, filename))
        if known is not None:
            item, crc = known
            if crc != entry.info.CRC:
                plan.problem(
                    entry.path, f"differs from another file named {filename!r} in split {split!r}"
                )
            elif label is not None and (split, label, "") not in item.annotations:
                item.annotations.append((split, label, ""))
            continue
        checked = check_file(archive, entry, plan)
        if checked is None:
            continue
        extension, text = checked
        item = PlannedItem(
            entry=entry.path,
            name=filename,
            splits=[split],
            annotations=[(split, label, "")] if label is not None else [],
            text=text,
            extension=extension,
            file_entry="" if extension == "txt" else entry.path,
        )
        by_name[(split, filename)] = (item, entry.info.CRC)
        plan.items.append(item)
