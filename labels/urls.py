"""Label statistics downloads."""

from django.urls import path

from labels.views import archives, exports

app_name = "labels"

urlpatterns = [
    path(
        "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/labels/stats.csv",
        exports.stats_csv,
        name="stats-csv",
    ),
    path(
        "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/import/",
        archives.archive_import,
        name="archive-import",
    ),
]
