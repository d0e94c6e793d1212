"""Split pages."""

from django.urls import path

from splits.views import split as views

app_name = "splits"

urlpatterns = [
    path(
        "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/splits/<uuid:split_id>/",
        views.split_detail,
        name="split-detail",
    ),
]
