"""The ``spacy-ner`` format: per split a ``<split>.json`` at the root holding
``[[text, {"entities": [[start, end, label], ...]}], ...]`` (character offsets, end
excluded); ``config.json`` may hold ``{"colors": {...}}`` (labels are created in its
order first, so labels without entities survive a round trip)."""

import json

from labels.archive.plan import ImportPlan, PlannedItem, span_coordinates
from labels.archive.safety import SafeArchive
from labels.archive.yolo import read_colors


def _entity(value, text: str) -> tuple[int, int, str] | str:
    if not isinstance(value, list | tuple) or len(value) != 3:
        return "an entity must be [start, end, label]"
    start, end, label = value
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        return "entity offsets must be integers"
    if not isinstance(label, str) or not label.strip():
        return "entity label must be a non-empty string"
    if not 0 <= start < end <= len(text):
        return f"entity [{start}, {end}] is outside the text (length {len(text)})"
    return start, end, label.strip()


def parse_spacy(archive: SafeArchive, plan: ImportPlan) -> None:
    read_colors(archive, plan)
    for name in plan.colors:
        plan.add_label(name)
    documents = [e for e in archive.files() if "/" not in e.path and e.path.endswith(".json")]
    documents = [e for e in documents if e.path != "config.json"]
    if not documents:
        plan.problem("", "no <split>.json file at the root")
    for entry in archive.files():
        if entry not in documents and entry.path != "config.json":
            plan.problem(entry.path, "not part of a spacy-ner archive (<split>.json)")
    for entry in documents:
        split = entry.path[: -len(".json")]
        plan.add_split(split)
        data = archive.read_document(entry, plan.problems)
        if data is None:
            continue
        try:
            pairs = json.loads(data)
        except ValueError as exc:
            plan.problem(entry.path, f"not valid JSON ({exc})")
            continue
        if not isinstance(pairs, list):
            plan.problem(entry.path, "must be a JSON list of [text, {entities}] pairs")
            continue
        for n, pair in enumerate(pairs, start=1):
            _parse_pair(plan, entry.path, split, n, pair)


def _parse_pair(plan: ImportPlan, path: str, split: str, n: int, pair) -> None:
    """``n`` is the pair's position in the list (reported as the "line")."""
    if (
        not isinstance(pair, list)
        or len(pair) != 2
        or not isinstance(pair[0], str)
        or not isinstance(pair[1], dict)
    ):
        plan.problem(path, 'expected [text, {"entities": [...]}]', n)
        return
    text, extra = pair
    entities = extra.get("entities", [])
    if not isinstance(entities, list):
        plan.problem(path, '"entities" must be a list', n)
        return
    item = PlannedItem(entry=path, line=n, name=text[:80], splits=[split], text=text)
    for value in entities:
        entity = _entity(value, text)
        if isinstance(entity, str):
            plan.problem(path, entity, n)
            continue
        start, end, label = entity
        plan.add_label(label)
        item.annotations.append((split, label, span_coordinates(start, end)))
    plan.items.append(item)
