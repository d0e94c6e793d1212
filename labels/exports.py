"""The CSV download of a version's split x label matrix, shared by the page and the API."""

from django.http import HttpResponse
from django.utils.text import slugify

from labels.selectors import label_stats_csv_rows
from seeme.csvsafe import write_csv
from seeme.models import Version

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def csv_filename(*, version: Version) -> str:
    """``<dataset>-<version>-label-stats.csv``, safe for a Content-Disposition header."""
    stem = "-".join(filter(None, [slugify(version.dataset.name), slugify(version.name)]))
    return f"{stem or 'dataset'}-label-stats.csv"


def label_stats_csv_response(*, version: Version) -> HttpResponse:
    """An attachment with ``label_stats_csv_rows`` of the version (three queries)."""
    response = HttpResponse(content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{csv_filename(version=version)}"'
    write_csv(response, label_stats_csv_rows(version_id=version.pk))
    return response
