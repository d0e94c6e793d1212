"""Label statistics downloads and the labelling forms of the item pages."""

from django.urls import path

from labels.views import annotate, archive_export, archives, exports

app_name = "labels"

VERSION = "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/"
ITEM = VERSION + "items/<uuid:item_id>/"

urlpatterns = [
    path(VERSION + "labels/stats.csv", exports.stats_csv, name="stats-csv"),
    path(ITEM + "label/", annotate.item_label, name="item-label"),
    path(ITEM + "unlabel/", annotate.item_unlabel, name="item-unlabel"),
    path(ITEM + "move/", annotate.item_move, name="item-move"),
    path(ITEM + "state/", annotate.item_state, name="item-state"),
    path(VERSION + "items/bulk/", annotate.items_bulk, name="items-bulk"),
    path(VERSION + "import/", archives.archive_import, name="archive-import"),
    path(VERSION + "export/", archive_export.archive_export, name="archive-export"),
    path(
        VERSION + "splits/<uuid:split_id>/export/",
        archive_export.archive_export,
        name="archive-export-split",
    ),
]
