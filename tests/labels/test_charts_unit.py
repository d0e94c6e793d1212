"""``labels.charts``: the SVG bar chart geometry, from hand-built matrices (no database)."""

import uuid
from types import SimpleNamespace

import pytest

from labels import charts
from labels.selectors import MatrixCell, MatrixRow, StatsMatrix


def _split(name):
    return SimpleNamespace(pk=uuid.uuid4(), name=name)


def _label(name, color="#ff0000"):
    return SimpleNamespace(pk=uuid.uuid4(), name=name, color=color)


def _matrix(splits, labels, label_items, unlabelled_items):
    """``label_items[label][split]`` items; shares of each split's items."""
    totals = [
        sum(label_items[lb][i] for lb in range(len(labels))) + unlabelled_items[i]
        for i in range(len(splits))
    ]

    def row(kind, label, items):
        return MatrixRow(
            kind=kind,
            label=label,
            cells=[
                MatrixCell(
                    split=s,
                    item_count=n,
                    annotation_count=n,
                    share=100 * n / totals[i] if totals[i] else None,
                )
                for i, (s, n) in enumerate(zip(splits, items, strict=True))
            ],
        )

    return StatsMatrix(
        splits=splits,
        labels=labels,
        rows=[row("label", lb, label_items[i]) for i, lb in enumerate(labels)],
        unlabelled=row("unlabelled", None, unlabelled_items),
        totals=row("total", None, totals),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, (100.0, 25.0)), (-3, (100.0, 25.0)), (40, (40.0, 10.0)), (73, (80.0, 20.0))],
)
def test_nice_max_is_a_round_top_and_step(value, expected):
    assert charts._nice_max(value) == expected


def test_nice_max_never_goes_past_100_percent():
    top, step = charts._nice_max(99.5)
    assert top == 100.0 and step > 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#12abEF", "#12abEF"),
        (None, charts.FALLBACK_COLOR),
        ("red", charts.FALLBACK_COLOR),
        ("#fff", charts.FALLBACK_COLOR),
        ('#000000" onload="x', charts.FALLBACK_COLOR),
    ],
)
def test_safe_color_lets_only_hex_colours_through(value, expected):
    assert charts.safe_color(value) == expected


def test_no_splits_no_chart():
    assert charts.grouped_bar_chart(_matrix([], [], [], [])) is None


def test_a_group_per_split_and_a_bar_per_label_plus_unlabelled():
    splits = [_split("train"), _split("valid")]
    labels = [_label("cat", "#00ff00"), _label("dog", "bad")]
    chart = charts.grouped_bar_chart(_matrix(splits, labels, [[3, 1], [1, 0]], [0, 1]))
    assert [g.name for g in chart.groups] == ["train", "valid"]
    train = chart.groups[0]
    assert [b.name for b in train.bars] == ["cat", "dog", "unlabelled"]
    assert [b.color for b in train.bars] == ["#00ff00", charts.FALLBACK_COLOR, "#9ca3af"]
    assert [b.unlabelled for b in train.bars] == [False, False, True]
    # 3 of 4 items: the tallest bar; heights are proportional to the shares.
    cat, dog, _ = train.bars
    assert cat.height == pytest.approx(3 * dog.height, abs=0.05)
    assert cat.title == "train, cat: 3 items (75.0%), 3 annotations"
    assert train.bars[2].title == "train, unlabelled: 0 items (0.0%)"


def test_bars_stay_inside_the_plot_and_ticks_span_the_axis():
    splits = [_split(f"s{i}") for i in range(3)]
    labels = [_label(f"l{i}") for i in range(4)]
    chart = charts.grouped_bar_chart(
        _matrix(splits, labels, [[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]], [1, 1, 1])
    )
    # left / right / top / bottom are the plot's edges, in SVG coordinates.
    for group in chart.groups:
        for bar in group.bars:
            assert chart.left <= bar.x and bar.x + bar.width <= chart.right
            assert chart.top - 0.01 <= bar.y and bar.y + bar.height <= chart.bottom + 0.01
    assert chart.ticks[0].text == "0%" and chart.ticks[0].y == chart.bottom
    assert chart.ticks[-1].y == pytest.approx(chart.top, abs=0.01)


def test_an_empty_split_has_flat_bars_that_say_no_items():
    chart = charts.grouped_bar_chart(_matrix([_split("empty")], [_label("cat")], [[0]], [0]))
    bars = chart.groups[0].bars
    assert all(b.height == 0 for b in bars)
    assert bars[0].title == "empty, cat: 0 items (no items), 0 annotations"
    assert bars[0].value_text == ""


def test_narrow_bars_hide_their_values():
    many = [_label(f"l{i}") for i in range(12)]
    chart = charts.grouped_bar_chart(
        _matrix([_split(f"s{i}") for i in range(4)], many, [[1] * 4 for _ in many], [1] * 4)
    )
    assert chart.show_values is False
    few = charts.grouped_bar_chart(_matrix([_split("a")], [_label("x")], [[1]], [1]))
    assert few.show_values is True
