"""The import page (dry-run report, then import of exactly what was checked) and the
export forms on the version and split pages."""

import io

import pytest
from django.urls import reverse

from seeme.models import Item
from tests.archive.conftest import stats_by_name
from tests.archive.helpers import make_zip, png
from tests.conftest import assert_stats_exact, db_snapshot
from tests.factories import UserFactory, share

pytestmark = pytest.mark.django_db


def page_url(version) -> str:
    return reverse("labels:archive-import", args=[version.dataset_id, version.pk])


def upload(client, version, data: bytes, fmt: str = ""):
    f = io.BytesIO(data)
    f.name = "data.zip"
    return client.post(page_url(version), {"file": f, "format": fmt})


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


GOOD = {"train/cat/a.png": png(), "train/dog/b.txt": "bee", "valid/c.txt": "sea"}


def test_check_shows_the_report_and_writes_nothing(browser, version):
    before = db_snapshot()
    response = upload(browser, version, make_zip(GOOD))
    assert response.status_code == 200
    assert db_snapshot() == before
    html = response.content.decode()
    assert 'id="report-table"' in html and 'id="import-button"' in html
    report = response.context["report"]
    assert report["items"] == 3 and report["problems"] == []
    assert response.context["table"]["totals"][0] == {"items": 2, "annotations": 2}


def test_import_writes_what_was_checked(browser, version):
    response = upload(browser, version, make_zip(GOOD))
    token = response.context["token"]
    report = response.context["report"]
    done = browser.post(page_url(version), {"token": token})
    assert done.status_code == 302
    assert done["Location"] == reverse(
        "seeme:version-detail", args=[version.dataset_id, version.pk]
    )
    stats = stats_by_name(version)
    for split in report["splits"]:
        assert stats[split["name"]]["*"] == (split["items"], split["annotations"])
    assert_stats_exact()
    # The same token again: the kept archive is gone, nothing imported twice.
    again = browser.post(page_url(version), {"token": token})
    assert again.status_code == 302
    assert Item.objects.filter(dataset_version=version).count() == 3


def test_problems_are_listed_and_there_is_no_import_button(browser, version):
    data = make_zip({"train/cat/a.png": b"\x89PNG\r\n\x1a\nbad", "../x.txt": "x"})
    response = upload(browser, version, data)
    html = response.content.decode()
    assert 'id="problems"' in html and "import-button" not in html
    assert "train/cat/a.png" in html and "climbs out" in html


def test_a_forged_or_changed_token_imports_nothing(browser, version):
    response = upload(browser, version, make_zip(GOOD))
    token = response.context["token"]
    before = db_snapshot()
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert browser.post(page_url(version), {"token": forged}).status_code == 302
    assert db_snapshot() == before


def test_the_report_must_still_hold_at_import(browser, version):
    """Checked on a multi-label dataset, the dataset then turned single-label: two labels on
    one item would now be refused, so the import refuses and writes nothing."""
    version.dataset.multi_label = True
    version.dataset.save()
    data = make_zip({"train/cat/a.txt": "same", "train/dog/a.txt": "same"})
    token = upload(browser, version, data).context["token"]
    version.dataset.multi_label = False
    version.dataset.save()
    before = db_snapshot()
    response = browser.post(page_url(version), {"token": token}, follow=True)
    assert "check again" in response.content.decode()
    assert {k: v for k, v in db_snapshot().items() if k != "Dataset"} == {
        k: v for k, v in before.items() if k != "Dataset"
    }


def test_viewers_get_403_strangers_404(client, version):
    viewer, stranger = UserFactory(), UserFactory()
    share(version.dataset, viewer, "viewer")
    client.force_login(viewer)
    assert client.get(page_url(version)).status_code == 403
    client.force_login(stranger)
    assert client.get(page_url(version)).status_code == 404


def test_version_and_split_pages_offer_export(browser, version, splits):
    html = browser.get(reverse("seeme:version-detail", args=[version.dataset_id, version.pk]))
    text = html.content.decode()
    download = reverse("version-download", args=[version.dataset_id, version.pk])
    assert f'action="{download}"' in text and "Import zip" in text
    split = splits["train"]
    page = browser.get(
        reverse("splits:split-detail", args=[version.dataset_id, version.pk, split.pk])
    )
    split_download = reverse(
        "version-download-split", args=[version.dataset_id, version.pk, split.pk]
    )
    assert f'action="{split_download}"' in page.content.decode()
    # The form's GET works with the page's session.
    response = browser.get(split_download, {"format": "manifest-jsonl"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"


def test_a_large_archive_is_imported_by_a_job_from_the_page(browser, version, settings):
    from seeme.jobs.models import Job
    from tests.jobs.conftest import drain_queue

    settings.SEEME_SYNC_LIMIT = 5
    data = make_zip({f"train/cat/{i}.txt": f"text {i}" for i in range(8)})
    token = upload(browser, version, data).context["token"]
    response = browser.post(page_url(version), {"token": token})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("seeme:job-detail", args=[job.pk])
    assert job.kind == "archive_import" and job.state == "queued"
    drain_queue()
    job.refresh_from_db()
    assert job.state == "done", job.errors
    assert stats_by_name(version)["train"]["cat"] == (8, 8)
    assert_stats_exact()
