"""Pages of the split tools (assignment, health, comparison, duplicate)."""

from django.urls import path

from splits.views import tools as views

app_name = "tools"

VERSION = "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/"

urlpatterns = [
    path(VERSION + "splits/assign/", views.split_assign, name="split-assign"),
    path(VERSION + "health/", views.version_health, name="version-health"),
    path(VERSION + "health/scan/", views.version_health_scan, name="version-health-scan"),
    path(VERSION + "health.csv", views.version_health_csv, name="version-health-csv"),
    path(VERSION + "compare/", views.version_compare, name="version-compare"),
    path(VERSION + "duplicate/", views.version_duplicate_page, name="version-duplicate"),
]
