"""Item.group and Item.content_hash through the API (they feed split assignment and health)."""

import hashlib

from django.urls import reverse

from labels import services as label_services
from seeme.models import Item
from tests.factories import LabelFactory


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def items_url(version):
    return reverse("item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})


def item_url(version, item_id):
    return reverse(
        "item-detail",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "pk": item_id},
    )


def test_hash_follows_the_text_unless_a_file_hash_is_given(api, version):
    created = api.post(
        items_url(version), {"name": "a", "text": "hello", "group": "p1"}, format="json"
    ).json()
    assert created["content_hash"] == sha("hello") and created["group"] == "p1"
    url = item_url(version, created["id"])
    changed = api.put(url, {"text": "bye"}, format="json").json()
    assert changed["content_hash"] == sha("bye")
    given = api.put(url, {"content_hash": "ab" * 32}, format="json").json()
    assert given["content_hash"] == "ab" * 32
    reset = api.put(url, {"content_hash": ""}, format="json").json()
    assert reset["content_hash"] == sha("bye")
    regrouped = api.put(url, {"group": "p2"}, format="json").json()
    assert regrouped["group"] == "p2" and regrouped["content_hash"] == sha("bye")
    assert (
        api.post(items_url(version), {"content_hash": "x" * 65}, format="json").status_code == 400
    )
    blank = api.post(items_url(version), {"name": "image.jpg"}, format="json").json()
    assert blank["content_hash"] == ""


def test_inferences_on_text_datasets_are_hashed(user, version, splits):
    version.dataset.content_type = "text"
    version.dataset.save()
    LabelFactory(version=version, name="cat")
    (item_id,) = label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": "x", "result": "a sentence", "prediction": "cat"}],
    )
    assert Item.objects.get(pk=item_id).content_hash == sha("a sentence")
