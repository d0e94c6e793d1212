import io
import zipfile

from django.urls import reverse

from labels.models import Label, LabelStat
from splits.models import DatasetSplit


def upload_url(version, fmt: str | None = None, **query) -> str:
    kwargs = {"dataset_id": version.dataset_id, "version_id": version.pk}
    if fmt:
        kwargs["archive_format"] = fmt
    url = reverse("version-upload-format" if fmt else "version-upload", kwargs=kwargs)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def download_url(version, split=None, **query) -> str:
    kwargs = {"dataset_id": version.dataset_id, "version_id": version.pk}
    if split is not None:
        kwargs["split_id"] = split.pk
    url = reverse("version-download-split" if split else "version-download", kwargs=kwargs)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def post_zip(api, url: str, data: bytes, name: str = "dataset.zip"):
    upload = io.BytesIO(data)
    upload.name = name
    return api.post(url, {"file": upload}, format="multipart")


def downloaded(response) -> zipfile.ZipFile:
    assert response.status_code == 200, getattr(response, "data", response)
    assert response["Content-Type"] == "application/zip"
    body = b"".join(response.streaming_content)
    return zipfile.ZipFile(io.BytesIO(body))


def stats_by_name(version) -> dict:
    """{split name: {label name or "" (unlabelled) or "*" (total): (items, annotations)}}."""
    result: dict = {}
    splits = DatasetSplit.objects.filter(version=version)
    for row in LabelStat.objects.filter(split__in=splits).select_related("split", "label"):
        key = row.label.name if row.label_id else ("" if row.kind == "unlabelled" else "*")
        result.setdefault(row.split.name, {})[key] = (row.item_count, row.annotation_count)
    return result


def label_names(version) -> list[str]:
    return list(
        Label.objects.filter(version=version).order_by("index").values_list("name", flat=True)
    )


def split_names(version) -> set[str]:
    return set(DatasetSplit.objects.filter(version=version).values_list("name", flat=True))
