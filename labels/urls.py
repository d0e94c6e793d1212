"""Label statistics downloads."""

from django.urls import path

from labels import views

app_name = "labels"

urlpatterns = [
    path(
        "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/labels/stats.csv",
        views.stats_csv,
        name="stats-csv",
    ),
]
