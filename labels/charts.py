"""Geometry of the server-rendered SVG charts (no JavaScript, no chart library).

Pure functions of a ``StatsMatrix``: they never touch the database.
"""

import math
import re
from dataclasses import dataclass

from labels.selectors import StatsMatrix

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
FALLBACK_COLOR = "#6b7280"
UNLABELLED_COLOR = "#9ca3af"


def safe_color(value: str | None) -> str:
    """``value`` if it is a #rrggbb colour, else a neutral grey: colours end up in style
    attributes, so nothing else may pass."""
    return value if value and COLOR_RE.match(value) else FALLBACK_COLOR


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    cx: float
    color: str
    name: str
    title: str
    value_text: str
    unlabelled: bool


@dataclass(frozen=True)
class BarGroup:
    name: str
    center: float
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class GroupedBarChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    groups: list[BarGroup]
    ticks: list[Tick]
    show_values: bool


WIDTH = 760
HEIGHT = 300
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 22
MARGIN_BOTTOM = 34
MAX_BAR_WIDTH = 44
NICE_STEPS = (1, 2, 2.5, 5, 10)


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum >= value (at most 100) and its tick step."""
    if value <= 0:
        return 100.0, 25.0
    raw_step = value / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(s * magnitude for s in NICE_STEPS if s * magnitude >= raw_step)
    top = min(math.ceil(value / step) * step, 100.0)
    return top, step


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:g}"


def grouped_bar_chart(matrix: StatsMatrix) -> GroupedBarChart | None:
    """A group of bars per split, one bar per label (in its colour) and one for the
    unlabelled items, each as high as its share of the split's items. None without splits."""
    if not matrix.splits:
        return None
    lines = [*matrix.rows, matrix.unlabelled]
    shares = [cell.share or 0.0 for line in lines for cell in line.cells]
    top, step = _nice_max(max(shares, default=0.0))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    group_w = plot_w / len(matrix.splits)
    bar_w = min(MAX_BAR_WIDTH, group_w * 0.8 / len(lines))
    show_values = bar_w >= 24
    groups = []
    for column, split in enumerate(matrix.splits):
        center = MARGIN_LEFT + group_w * (column + 0.5)
        start = center - bar_w * len(lines) / 2
        bars = []
        for position, line in enumerate(lines):
            cell = line.cells[column]
            share = cell.share or 0.0
            height = plot_h * share / top
            name = line.label.name if line.label else "unlabelled"
            share_text = "no items" if cell.share is None else f"{cell.share:.1f}%"
            title = (
                f"{split.name}, {name}: {cell.item_count:,} items ({share_text})"
                if line.label is None
                else f"{split.name}, {name}: {cell.item_count:,} items ({share_text}), "
                f"{cell.annotation_count:,} annotations"
            )
            bars.append(
                Bar(
                    x=round(start + position * bar_w + 1, 2),
                    cx=round(start + (position + 0.5) * bar_w, 2),
                    y=round(MARGIN_TOP + plot_h - height, 2),
                    width=round(max(bar_w - 2, 1), 2),
                    height=round(height, 2),
                    color=safe_color(line.label.color) if line.label else UNLABELLED_COLOR,
                    name=name,
                    title=title,
                    value_text=f"{share:.0f}%" if cell.share is not None else "",
                    unlabelled=line.label is None,
                )
            )
        groups.append(BarGroup(name=split.name, center=round(center, 2), bars=bars))
    ticks = []
    value = 0.0
    while value <= top + 1e-9:
        ticks.append(
            Tick(y=round(MARGIN_TOP + plot_h - plot_h * value / top, 2), text=f"{_fmt(value)}%")
        )
        value += step
    return GroupedBarChart(
        width=WIDTH,
        height=HEIGHT,
        left=MARGIN_LEFT,
        right=WIDTH - MARGIN_RIGHT,
        top=MARGIN_TOP,
        bottom=HEIGHT - MARGIN_BOTTOM,
        groups=groups,
        ticks=ticks,
        show_values=show_values,
    )
