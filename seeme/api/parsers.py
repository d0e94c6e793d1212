"""The API's JSON parser: DRF's, plus two limits no body may pass.

- Nesting: a body nested deeper than ``SEEME_MAX_JSON_DEPTH`` (64) is refused; one nested
  thousands deep used to raise ``RecursionError`` (a 500) in the decoder itself.
- Characters: a NUL or a lone surrogate in any string or key is refused (see
  ``seeme.textsafety``), wherever it is, so no field, filter or seed can carry one to the
  database.

Both are 400s naming the problem (``BodyRefused``), raised before any view code runs.
"""

from collections.abc import Iterable

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from seeme.textsafety import REFUSED_TEXT, has_refused_character


class BodyRefused(ParseError):
    """Valid JSON that this server does not take. ``errors`` names the field (its dotted
    path in the body) like a validation error does."""

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail)
        self.errors = {field: [detail]} if field else None


def _where(path: list) -> str:
    return ".".join(str(p) for p in path) or "the body"


def check_body(data, max_depth: int) -> None:
    """BodyRefused at the first refused shape or string of ``data``.

    A body of 10,000 inferences holds some 130,000 strings: a first walk only collects them
    (and checks the depth) and searches them all at once; only a body it finds fault with
    is walked again, keeping paths, to name the place (``_locate``)."""
    if not _plainly_fine(data, max_depth):
        _locate(data, max_depth)


def _plainly_fine(data, max_depth: int) -> bool:
    """True when no container of ``data`` is deeper than ``max_depth`` and no string or key
    holds a refused character; False when one does, or for anything but what JSON parses to
    (plain dicts, lists, strings): ``_locate`` decides then."""
    strings: list[str] = []
    containers: list[tuple[dict | list, int]] = []
    values: Iterable = [data]
    depth = 0
    while True:
        for item in values:
            kind = type(item)
            if kind is str:
                strings.append(item)
            elif kind is dict or kind is list:
                containers.append((item, depth + 1))
            elif isinstance(item, str | dict | list):
                return False
        if not containers:
            break
        value, depth = containers.pop()
        if depth > max_depth:
            return False
        if type(value) is dict:
            strings.extend(value)  # the keys
            values = value.values()
        else:
            values = value
    # Joined by a character the search does not refuse: one scan of the whole text.
    return not has_refused_character("\n".join(strings))


def _locate(data, max_depth: int) -> None:
    """Walk ``data`` without recursion; BodyRefused at the first refused shape or string."""
    stack = [(data, 1, [])]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if has_refused_character(value):
                raise BodyRefused(
                    f"{_where(path)} holds {REFUSED_TEXT}; remove that character.",
                    _where(path),
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            raise BodyRefused(f"The body is nested deeper than {max_depth} levels.")
        if isinstance(value, dict):
            for key, item in value.items():
                if has_refused_character(key):
                    raise BodyRefused(
                        f"A key in {_where(path)} holds {REFUSED_TEXT}; remove that character.",
                        _where(path),
                    )
                stack.append((item, depth + 1, [*path, key]))
        else:
            stack.extend((item, depth + 1, [*path, i]) for i, item in enumerate(value))


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        max_depth = settings.SEEME_MAX_JSON_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise BodyRefused(f"The body is nested deeper than {max_depth} levels.") from exc
        check_body(data, max_depth)
        return data
