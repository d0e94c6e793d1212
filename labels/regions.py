"""Region annotations as boxes: ``coordinates`` read as ``x_min, y_min, x_max, y_max``. Pure.

Accepted spellings: ``"10,20,110,80"``, ``"[0.1, 0.2, 0.5, 0.6]"`` (JSON), whitespace
separated. Values all within 0..1 are relative to the image, otherwise pixels of the
upright image (EXIF orientation applied). Anything else is not a box (``None``); the item
page then lists the annotation without drawing it.
"""

import json
import math
import re
from dataclasses import dataclass

SEPARATORS = re.compile(r"[,\s;]+")


@dataclass(frozen=True)
class Box:
    """A box in pixels of an image ``width`` x ``height``."""

    x: float
    y: float
    width: float
    height: float


def _numbers(coordinates: str) -> list[float] | None:
    text = coordinates.strip()
    try:
        parsed = json.loads(text) if text.startswith("[") else None
    except ValueError:
        return None
    if parsed is not None:
        values = parsed if isinstance(parsed, list) else []
    else:
        values = [v for v in SEPARATORS.split(text) if v]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        return None
    return numbers


def region_box(coordinates: str, width: int, height: int) -> Box | None:
    """The box ``coordinates`` describe on an image of ``width`` x ``height`` pixels, clipped
    to the image; None when they are not a box (or an empty one)."""
    numbers = _numbers(coordinates or "")
    if numbers is None or width <= 0 or height <= 0:
        return None
    x1, y1, x2, y2 = numbers
    if all(0 <= n <= 1 for n in numbers):
        x1, x2, y1, y2 = x1 * width, x2 * width, y1 * height, y2 * height
    left, right = sorted((min(max(x1, 0), width), min(max(x2, 0), width)))
    top, bottom = sorted((min(max(y1, 0), height), min(max(y2, 0), height)))
    if right - left <= 0 or bottom - top <= 0:
        return None
    return Box(left, top, right - left, bottom - top)
