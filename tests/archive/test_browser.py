"""The import page in a real browser: choose a zip, check it, read the report, import it;
the version page then shows the numbers the report promised; the export form downloads."""

import re
import zipfile

import pytest
from playwright.sync_api import expect

from labels import services as label_services
from tests.archive.helpers import make_zip, png
from tests.factories import PASSWORD, UserFactory
from tests.pages.test_browser import browser, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_check_then_import_then_export(page, tmp_path, settings):  # noqa: F811
    owner = UserFactory(username="importer")
    dataset = label_services.dataset_create(owner=owner, name="pets", default_splits=True)
    version = dataset.versions.get()
    archive = tmp_path / "pets.zip"
    archive.write_bytes(
        make_zip(
            {
                "train/cat/1.png": png(),
                "train/cat/2.png": png((1, 1, 1)),
                "train/dog/3.png": png((2, 2, 2)),
                "valid/4.txt": "a note",
                "train/cat/broken.png": b"\x89PNG\r\n\x1a\nnope",
            }
        )
    )
    page.goto("/login/")
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/datasets/{dataset.pk}/versions/{version.pk}/")
    page.get_by_role("link", name="Import zip").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a zip archive")

    page.get_by_label("Zip archive").set_input_files(str(archive))
    page.get_by_role("button", name="Check (dry run)").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("train/cat/broken.png")
    expect(page.locator("#import-button")).to_have_count(0)

    good = tmp_path / "good.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(good, "w") as dst:
        for name in src.namelist():
            if "broken" not in name:
                dst.writestr(name, src.read(name))
    page.get_by_label("Zip archive").set_input_files(str(good))
    page.get_by_role("button", name="Check (dry run)").click()
    table = page.locator("#report-table")
    expect(table.locator("tfoot")).to_contain_text("3")  # train: 3 items
    expect(table).to_contain_text("cat")
    page.locator("#import-button").click()
    expect(page).to_have_url(re.compile(rf"/datasets/{dataset.pk}/versions/{version.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("Imported 4 item(s) with 3 annotation(s)")
    train = version.splits.get(name="train")
    expect(page.locator(f'a.tile[data-split-id="{train.pk}"]')).to_contain_text("3 items")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export zip").click()
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as zf:
        assert zf.read("train/cat/1.png") == png()
        assert zf.read("valid/4.txt") == b"a note"
