"""Label colours (issue 13): distinct for any number of labels and readable on white."""

import importlib
import itertools

from django.apps import apps

from labels.colors import (
    MIN_CONTRAST,
    PALETTE,
    TABLEAU_10,
    color_distance,
    color_for_index,
    contrast_on_white,
    distinct_colors,
    first_unused_color,
)
from labels.models import Label
from labels.services import label_create


def test_contrast_of_known_colours():
    assert round(contrast_on_white("#000000"), 1) == 21.0
    assert round(contrast_on_white("#ffffff"), 1) == 1.0
    assert 1.5 < contrast_on_white("#edc948") < 1.7  # Tableau's yellow: unreadable on white


def test_palette_is_tableau_darkened_only_where_needed():
    assert len(PALETTE) == 10
    for original, shown in zip(TABLEAU_10, PALETTE, strict=True):
        if contrast_on_white(original) >= MIN_CONTRAST:
            assert shown == original
        else:
            assert shown != original
    assert all(contrast_on_white(c) >= MIN_CONTRAST for c in PALETTE)


def test_default_colours_never_repeat_and_are_readable():
    colours = [color_for_index(i) for i in range(300)]
    assert all(contrast_on_white(c) >= MIN_CONTRAST for c in colours)
    first = colours[:64]
    assert len(set(first)) == 64
    # the first 64 stay apart: as far as the palette's own closest pair
    nearest = min(color_distance(a, b) for a, b in itertools.combinations(first, 2))
    assert nearest >= min(color_distance(a, b) for a, b in itertools.combinations(PALETTE, 2))


def test_first_unused_and_distinct_for_display():
    assert first_unused_color([]) == PALETTE[0]
    assert first_unused_color([PALETTE[0].upper()]) == PALETTE[1]
    shown = distinct_colors(["#4e79a7", "#112233", "#4E79A7"])
    assert shown[:2] == ["#4e79a7", "#112233"]
    assert shown[2] not in {"#4e79a7", "#112233"}


def test_hundred_labels_of_a_version_get_distinct_readable_colours(version):
    labels = [label_create(version=version, user=None, name=f"l{i}") for i in range(100)]
    colours = [lb.color for lb in labels]
    assert len(set(colours)) == 100
    assert all(contrast_on_white(c) >= MIN_CONTRAST for c in colours)
    # a colour chosen by hand is kept, and the next default skips it
    mine = label_create(version=version, user=None, name="mine", color="#123456")
    assert mine.color == "#123456"


def test_migration_recolours_repeated_palette_colours(version):
    for i in range(12):
        label_create(version=version, user=None, name=f"l{i}", color=TABLEAU_10[i % 10])
    migration = importlib.import_module("labels.migrations.0003_annot_distinct_label_colors")
    migration.recolour(apps, None)
    colours = list(Label.objects.filter(version=version).order_by("index").values_list("color"))
    assert len(set(colours)) == 12
    assert colours[:10] == [(c,) for c in TABLEAU_10]  # the first of each colour keeps it
