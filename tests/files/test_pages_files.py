"""Pages with files: the thumbnail grid, the item page's image with its boxes, documents as
links, the admin preview; the demo's pictures match their labels."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from labels import services as label_services
from labels.models import Annotation
from labels.regions import Box, region_box
from seeme import files
from seeme.demo_pictures import SHAPES
from seeme.models import Dataset, Item
from tests.factories import ItemFactory, LabelFactory
from tests.files import samples


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ids(version) -> dict:
    return {"dataset_id": version.dataset_id, "version_id": version.pk}


@pytest.mark.parametrize(
    ("coordinates", "box"),
    [
        ("[0.1, 0.2, 0.5, 0.6]", Box(20, 20, 80, 40)),
        ("20,20,100,60", Box(20, 20, 80, 40)),
        ("100 60 20 20", Box(20, 20, 80, 40)),  # corners in any order
        ("[-10, -5, 250, 30]", Box(0, 0, 200, 30)),  # clipped to the image
        ("", None),
        ("1,2,3", None),
        ('{"x": 1}', None),
        ("[0.5, 0.5, 0.5, 0.9]", None),  # empty
        ("nan,1,2,3", None),
    ],
)
def test_region_box(coordinates, box):
    assert region_box(coordinates, 200, 100) == box


@pytest.mark.django_db
def test_item_browser_is_a_thumbnail_grid_for_images(user, version, splits):
    with_file = ItemFactory(dataset_version=version, splits=[splits["train"]], name="a.jpg")
    ItemFactory(dataset_version=version, splits=[splits["train"]], name="no file yet")
    files.attach_item_file(with_file, io.BytesIO(samples.jpeg()))
    body = page_client(user).get(reverse("seeme:item-list", kwargs=ids(version))).content.decode()
    assert 'class="item-list item-list--grid"' in body
    thumbs = re.findall(r"<img [^>]+thumbnail[^>]+>", body)
    assert len(thumbs) == 1
    src = reverse("item-download", kwargs={**ids(version), "pk": with_file.pk})
    assert f'src="{src}?thumbnail=true"' in thumbs[0]
    for attribute in ('loading="lazy"', 'width="256"', 'height="256"'):
        assert attribute in thumbs[0]
    assert body.count('class="item-card__nothumb"') == 1  # the one without a file: same box


@pytest.mark.django_db
def test_item_browser_queries_do_not_grow_with_files(
    user, version, splits, django_assert_max_num_queries
):
    for n in range(3):
        item = ItemFactory(dataset_version=version, splits=[splits["train"]], name=f"{n}.png")
        files.attach_item_file(item, io.BytesIO(samples.image_bytes("PNG", color=(n, 0, 0))))
    client = page_client(user)
    url = reverse("seeme:item-list", kwargs=ids(version))
    with CaptureQueriesContext(connection) as three:
        client.get(url)
    for n in range(3, 9):
        item = ItemFactory(dataset_version=version, splits=[splits["train"]], name=f"{n}.png")
        files.attach_item_file(item, io.BytesIO(samples.image_bytes("PNG", color=(n, 0, 0))))
    with CaptureQueriesContext(connection) as nine:
        body = client.get(url).content.decode()
    assert body.count("?thumbnail=true") == 9
    assert len(nine) == len(three)


@pytest.mark.django_db
def test_item_page_draws_the_regions_in_label_colours(user, version, splits):
    train = splits["train"]
    cat = LabelFactory(version=version, name="cat", color="#4e79a7")
    dog = LabelFactory(version=version, name="dog", color="#f28e2b")
    item = ItemFactory(dataset_version=version, splits=[train], name="pets.jpg")
    files.attach_item_file(item, io.BytesIO(samples.jpeg(size=(200, 100))))
    for label, coordinates in ((cat, "[0.1, 0.2, 0.5, 0.6]"), (dog, "150,10,190,90"), (cat, "")):
        label_services.annotation_create(
            version=version,
            user=user,
            label_id=label.pk,
            item_id=item.pk,
            split_id=train.pk,
            coordinates=coordinates,
        )
    url = reverse("seeme:item-detail", kwargs={**ids(version), "item_id": item.pk})
    body = page_client(user).get(url).content.decode()
    download = reverse("item-download", kwargs={**ids(version), "pk": item.pk})
    assert f'<img src="{download}" width="200" height="100"' in body
    assert 'viewBox="0 0 200 100"' in body
    groups = re.findall(
        r'<g class="region" data-label-id="([^"]+)" style="--swatch: ([^"]+)">', body
    )
    assert groups == [(str(cat.pk), "#4e79a7"), (str(dog.pk), "#f28e2b")]
    rects = re.findall(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)"', body)
    assert [tuple(float(v) for v in r) for r in rects] == [(20, 20, 80, 40), (150, 10, 40, 80)]


@pytest.mark.django_db
def test_item_page_links_documents_and_shows_text(user, version, splits):
    pdf = ItemFactory(dataset_version=version, splits=[splits["train"]], name="paper")
    files.attach_item_file(pdf, io.BytesIO(samples.PDF))
    note = ItemFactory(dataset_version=version, splits=[splits["train"]], name="note")
    files.attach_item_file(note, io.BytesIO(samples.TEXT))
    client = page_client(user)
    body = client.get(
        reverse("seeme:item-detail", kwargs={**ids(version), "item_id": pdf.pk})
    ).content.decode()
    download = reverse("item-download", kwargs={**ids(version), "pk": pdf.pk})
    assert f'<a href="{download}" download>Download the PDF document</a>' in body
    assert "<img" not in body.split('id="item-file"')[1]
    body = client.get(
        reverse("seeme:item-detail", kwargs={**ids(version), "item_id": note.pk})
    ).content.decode()
    assert "Hello, wörld." in body and 'data-kind="text"' in body


@pytest.mark.django_db
def test_admin_item_page_previews_the_file(admin_client, version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]], name="a.jpg")
    files.attach_item_file(item, io.BytesIO(samples.jpeg()))
    body = admin_client.get(reverse("admin:seeme_item_change", args=[item.pk])).content.decode()
    src = reverse("item-download", kwargs={**ids(version), "pk": item.pk})
    assert f'src="{src}?thumbnail=true"' in body
    assert f'href="{src}"' in body


@pytest.mark.django_db
def test_demo_pictures_match_their_labels():
    call_command("seed_demo", items=12, stdout=io.StringIO())
    dataset = Dataset.objects.get(name="Pets (demo)")
    version = dataset.versions.get()
    items = list(Item.objects.filter(dataset_version=version).select_related("file"))
    assert len(items) == 12 and all(i.file is not None and i.file.kind == "image" for i in items)
    assert len({i.file_id for i in items}) == 12  # every picture different
    labels = {lb.pk: lb for lb in version.labels.all()}
    regions = Annotation.objects.filter(item__dataset_version=version).exclude(coordinates="")
    assert regions.exists()
    for annotation in regions:
        item = next(i for i in items if i.pk == annotation.item_id)
        x1, y1, x2, y2 = json.loads(annotation.coordinates)
        with files.open_item_file(item) as f:
            img = Image.open(f).convert("RGB")
            w, h = img.size
            centre = img.getpixel((int((x1 + x2) / 2 * w), int((y1 + y2) / 2 * h)))
        color = labels[annotation.label_id].color
        expected = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
        shape = SHAPES[sorted(labels, key=lambda k: labels[k].index).index(annotation.label_id)]
        if shape != "ring":  # a ring's centre is background
            assert all(abs(a - b) < 40 for a, b in zip(centre, expected, strict=True)), (
                centre,
                expected,
            )


@pytest.mark.django_db
def test_seed_demo_gives_an_older_demo_its_pictures():
    call_command("seed_demo", items=6, stdout=io.StringIO())
    version = Dataset.objects.get(name="Pets (demo)").versions.get()
    Item.objects.filter(dataset_version=version).update(file=None, content_hash="")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Gave 6 demo items their pictures" in out.getvalue()
    items = Item.objects.filter(dataset_version=version)
    assert items.count() == 6 and not items.filter(file__isnull=True).exists()
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "Gave" not in again.getvalue()
