"""The Version admin action that assigns items to splits by ratio."""

from collections import Counter

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from labels import services as label_services
from seeme.models import Item
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import DatasetFactory, ItemFactory, LabelFactory, UserFactory

CHANGELIST = "admin:seeme_version_changelist"


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def post_action(client, versions, **form):
    return client.post(
        reverse(CHANGELIST),
        {
            "action": "assign_splits",
            ACTION_CHECKBOX_NAME: [str(v.pk) for v in versions],
            **form,
        },
    )


def test_the_action_asks_previews_then_assigns(version, splits):
    LabelFactory(version=version, name="cat")
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": f"c{i}", "prediction": "cat"} for i in range(10)],
    )
    ItemFactory.create_batch(10, dataset_version=version)
    other = DatasetFactory().versions.get()
    ItemFactory.create_batch(4, dataset_version=other)
    client = staff_client()
    page = post_action(client, [version, other])
    assert page.status_code == 200
    assert b"Assign items to splits" in page.content and b'name="ratios"' in page.content
    form = {
        "ratios": "train=0.5,valid=0.5,test=0",
        "scope": "unassigned",
        "group_by": "none",
        "separator": "_",
        "seed": "adm",
    }
    before = sorted(ItemSplit.objects.values_list("item_id", "split_id"))
    preview = post_action(client, [version, other], run="preview", **form)
    assert preview.status_code == 200
    assert preview.content.count(b'class="assign-preview"') == 2
    assert sorted(ItemSplit.objects.values_list("item_id", "split_id")) == before
    token = preview.context["preview_token"]
    assert token
    done = post_action(client, [version, other], run="apply", preview_token=token, **form)
    assert done.status_code == 302
    loose = Item.objects.filter(dataset_version=version, memberships__isnull=True)
    assert not loose.exists()
    assert not Item.objects.filter(dataset_version=other, memberships__isnull=True).exists()
    assert (
        Counter(
            ItemSplit.objects.filter(split__version=version).values_list("split__name", flat=True)
        )["train"]
        >= 10
    )  # the cats stayed, new items joined
    assert_stats_exact()


def test_a_version_without_the_named_splits_is_reported_and_left_alone(version, splits):
    bare = DatasetFactory(default_splits=False).versions.get()
    item = ItemFactory(dataset_version=bare)
    client = staff_client()
    response = post_action(
        client,
        [bare],
        run="preview",
        ratios="train=1",
        scope="all",
        group_by="none",
        separator="_",
        seed="",
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("no split named 'train'" in m for m in messages), messages
    assert response.context["preview_token"] == ""  # nothing previewed: no Apply
    assert b'value="apply"' not in response.content
    assert not ItemSplit.objects.filter(item=item).exists()


def test_apply_without_the_previewed_form_writes_nothing(version, splits):
    """Issue 13: preview 0.5/0.5, change the ratios, Apply: refused, nothing written."""
    ItemFactory.create_batch(6, dataset_version=version)
    client = staff_client()
    form = {"scope": "unassigned", "group_by": "none", "separator": "_", "seed": "x"}
    preview = post_action(client, [version], run="preview", ratios="train=0.5,valid=0.5", **form)
    token = preview.context["preview_token"]
    for body in (
        {"ratios": "train=1", "preview_token": token},
        {"ratios": "train=0.5,valid=0.5", "preview_token": ""},
    ):
        refused = post_action(client, [version], run="apply", **form, **body)
        assert refused.status_code == 200
        assert b"preview" in refused.content.lower()
        assert not ItemSplit.objects.exists()


def test_bad_ratios_come_back_in_the_form(version, splits):
    ItemFactory(dataset_version=version)
    response = post_action(
        staff_client(),
        [version],
        run="apply",
        ratios="train=2",
        scope="all",
        group_by="none",
        separator="_",
        seed="",
    )
    assert response.status_code == 200
    assert b"add up to 1" in response.content
    assert not ItemSplit.objects.exists()
