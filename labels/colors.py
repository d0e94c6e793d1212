"""Label colours: distinct for any number of labels, each readable on white.

"Readable" is WCAG's 3:1 contrast for graphical objects (1.4.11) against white, the
background of every chart and chip. The first ten are Tableau 10 (colour-blind aware),
darkened just enough where they fall short; after them hues advance by the golden angle
with alternating lightness and saturation, so colours never repeat however many labels a
version has. Pure functions: no database.
"""

import colorsys
import math
from collections.abc import Iterable, Sequence

MIN_CONTRAST = 3.0
GOLDEN_ANGLE = 137.50776405003785
TABLEAU_10 = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def _channels(color: str) -> tuple[float, float, float]:
    value = color.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_white(color: str) -> float:
    """The WCAG contrast ratio of ``#rrggbb`` against white (1 to 21)."""
    return 1.05 / (relative_luminance(color) + 0.05)


def readable(color: str) -> str:
    """``color`` darkened (same hue) until it reaches MIN_CONTRAST on white."""
    rgb = _channels(color)
    result = color.lower()
    factor = 1.0
    while contrast_on_white(result) < MIN_CONTRAST and factor > 0:
        factor -= 0.02
        result = _hex([c * factor for c in rgb])
    return result


PALETTE: tuple[str, ...] = tuple(readable(c) for c in TABLEAU_10)


GREEDY_UP_TO = 64  # past this many labels, golden-angle hues (distinct, not maximally so)
_CANDIDATES = tuple(
    readable(_hex(colorsys.hls_to_rgb(h / 48, light, sat)))
    for h in range(48)
    for light in (0.30, 0.42, 0.55)
    for sat in (0.85, 0.55)
)
_chosen: list[str] = list(PALETTE)
_nearest: list[float] = []  # per candidate: its distance to the nearest chosen colour


def _greedy(index: int) -> str:
    """Grow the list of chosen colours to ``index``: each next one is the candidate farthest
    from every colour chosen before (ties: the earlier candidate)."""
    if not _nearest:
        _nearest.extend(min(color_distance(c, o) for o in _chosen) for c in _CANDIDATES)
    while len(_chosen) <= index:
        best = max(range(len(_CANDIDATES)), key=lambda i: (_nearest[i], -i))
        color = _CANDIDATES[best]
        _chosen.append(color)
        for i, candidate in enumerate(_CANDIDATES):
            _nearest[i] = min(_nearest[i], color_distance(candidate, color))
    return _chosen[index]


def color_for_index(index: int) -> str:
    """The ``index``-th default colour (0-based): PALETTE first, then the colour farthest
    from all before it, then (past GREEDY_UP_TO) golden-angle hues."""
    if index < GREEDY_UP_TO:
        return _greedy(index)
    step = index - GREEDY_UP_TO
    hue = (0.61 + step * GOLDEN_ANGLE / 360) % 1.0
    lightness = (0.36, 0.46, 0.30)[step % 3]
    saturation = (0.70, 0.55, 0.85)[(step // 3) % 3]
    return readable(_hex(colorsys.hls_to_rgb(hue, lightness, saturation)))


def first_unused_color(used: Iterable[str]) -> str:
    """The first default colour that no label in ``used`` has (case-insensitive)."""
    taken = {c.lower() for c in used}
    index = 0
    while color_for_index(index) in taken:
        index += 1
    return color_for_index(index)


def distinct_colors(colors: Sequence[str]) -> list[str]:
    """Colours to draw labels with, in their order: a label keeps its own colour unless an
    earlier label already has it (labels made before colours were assigned distinctly); then
    it gets the first default colour nobody uses."""
    shown: list[str] = []
    taken = {c.lower() for c in colors}
    for color in colors:
        if color.lower() in {s.lower() for s in shown}:
            color = first_unused_color(taken | set(shown))
            taken.add(color)
        shown.append(color)
    return shown


def color_distance(a: str, b: str) -> float:
    """A rough perceptual distance (redmean-weighted RGB, 0 to ~765)."""
    (r1, g1, b1), (r2, g2, b2) = (_channels(a), _channels(b))
    mean = (r1 + r2) / 2 * 255
    dr, dg, db = (r1 - r2) * 255, (g1 - g2) * 255, (b1 - b2) * 255
    return math.sqrt((2 + mean / 256) * dr**2 + 4 * dg**2 + (2 + (255 - mean) / 256) * db**2)
