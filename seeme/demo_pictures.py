"""Small pictures whose content matches their labels, for the demo and generated datasets.

Each label is drawn as its own shape (by the label's index) in its own colour, so a page of
thumbnails shows at a glance whether the labels are right. Pure (Pillow only); no download.
"""

import io
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "diamond", "hexagon", "star", "ring", "cross")
DEFAULT_SIZE = (320, 240)


@dataclass(frozen=True)
class Shape:
    """One object to draw: the label's shape index, its colour (#rrggbb) and its box,
    ``(x_min, y_min, x_max, y_max)`` relative to the picture (0..1)."""

    index: int
    color: str
    box: tuple[float, float, float, float]


def random_box(rng: random.Random, small: bool = False) -> tuple[float, float, float, float]:
    """A square-ish box inside the picture, rounded to 3 decimals (as stored in coordinates)."""
    side = rng.uniform(0.2, 0.35) if small else rng.uniform(0.45, 0.7)
    x = rng.uniform(0.02, 0.98 - side * 0.75)
    y = rng.uniform(0.02, 0.98 - side)
    return (round(x, 3), round(y, 3), round(x + side * 0.75, 3), round(y + side, 3))


def _polygon(cx: float, cy: float, r: float, n: int, turn: float = -math.pi / 2) -> list:
    return [
        (
            cx + r * math.cos(turn + 2 * math.pi * k / n),
            cy + r * math.sin(turn + 2 * math.pi * k / n),
        )
        for k in range(n)
    ]


def _draw(draw: ImageDraw.ImageDraw, shape: str, box: tuple, color: str) -> None:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    r = min(x2 - x1, y2 - y1) / 2
    inner = (cx - r, cy - r, cx + r, cy + r)
    if shape == "circle":
        draw.ellipse(inner, fill=color)
    elif shape == "square":
        draw.rectangle(inner, fill=color)
    elif shape == "triangle":
        draw.polygon(_polygon(cx, cy + r * 0.15, r * 1.1, 3), fill=color)
    elif shape == "diamond":
        draw.polygon(_polygon(cx, cy, r, 4), fill=color)
    elif shape == "hexagon":
        draw.polygon(_polygon(cx, cy, r, 6, 0), fill=color)
    elif shape == "star":
        points = [
            (
                cx + (r if k % 2 == 0 else r * 0.45) * math.cos(-math.pi / 2 + math.pi * k / 5),
                cy + (r if k % 2 == 0 else r * 0.45) * math.sin(-math.pi / 2 + math.pi * k / 5),
            )
            for k in range(10)
        ]
        draw.polygon(points, fill=color)
    elif shape == "ring":
        draw.ellipse(inner, outline=color, width=max(3, int(r * 0.35)))
    else:  # cross
        w = r * 0.35
        draw.rectangle((cx - w, cy - r, cx + w, cy + r), fill=color)
        draw.rectangle((cx - r, cy - w, cx + r, cy + w), fill=color)


def picture(
    shapes: list[Shape], *, seed: int, size: tuple[int, int] = DEFAULT_SIZE, quality: int = 85
) -> bytes:
    """A JPEG: a pale background with a little texture, and each shape in its box."""
    rng = random.Random(seed)
    width, height = size
    base = tuple(rng.randint(225, 250) for _ in range(3))
    img = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(img)
    for _ in range(6):  # faint strokes: no two pictures are the same bytes
        points = [(rng.uniform(0, width), rng.uniform(0, height)) for _ in range(2)]
        shade = tuple(max(0, c - rng.randint(8, 25)) for c in base)
        draw.line(points, fill=shade, width=rng.randint(1, 4))
    for shape in shapes:
        x1, y1, x2, y2 = shape.box
        _draw(
            draw,
            SHAPES[shape.index % len(SHAPES)],
            (x1 * width, y1 * height, x2 * width, y2 * height),
            shape.color,
        )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()
