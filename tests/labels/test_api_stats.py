"""Label statistics through /api/v1 ("Get Label Stats" and "Get Item Count For Split"): the
meaning of every number, and that they stay exact after every kind of write."""

from django.urls import reverse

from labels.models import Annotation
from labels.services import add_inferences, item_add_to_split, item_delete
from seeme.models import Item
from tests.conftest import assert_stats_exact
from tests.factories import (
    AnnotationFactory,
    ItemFactory,
    LabelFactory,
    SplitFactory,
    VersionFactory,
)

STAT_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "label_id",
    "split_id",
    "count",
    "annotation_count",
    "item_count",
}


def stats_url(split):
    return reverse(
        "label-stats",
        kwargs={
            "dataset_id": split.version.dataset_id,
            "version_id": split.version_id,
            "split_id": split.pk,
        },
    )


def total_url(split):
    return reverse(
        "split-total",
        kwargs={
            "dataset_id": split.version.dataset_id,
            "version_id": split.version_id,
            "split_id": split.pk,
        },
    )


def rows(api, split) -> list[tuple]:
    """(label_id, annotation_count, item_count) per row, in answer order; checks count."""
    response = api.get(stats_url(split))
    assert response.status_code == 200
    body = response.json()
    for row in body:
        assert set(row) == STAT_FIELDS
        assert row["count"] == row["item_count"]
        assert row["split_id"] == str(split.pk)
    return [(r["label_id"], r["annotation_count"], r["item_count"]) for r in body]


def total(api, split) -> tuple[int, int]:
    response = api.get(total_url(split))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == STAT_FIELDS
    assert body["label_id"] == "" and body["split_id"] == str(split.pk)
    assert body["count"] == body["item_count"]
    return body["annotation_count"], body["item_count"]


def test_stats_of_an_empty_split(api, splits):
    assert rows(api, splits["train"]) == [("", 0, 0)]
    assert total(api, splits["train"]) == (0, 0)


def test_stats_rows_per_label_with_zeros_in_index_order_then_unlabelled(api, version, splits):
    train = splits["train"]
    labels = [LabelFactory(version=version, name=n) for n in ("zebra", "ant", "mole")]
    zebra, ant, mole = labels
    items = [ItemFactory(dataset_version=version, splits=[train]) for _ in range(4)]
    AnnotationFactory(item=items[0], split=train, label=ant)
    AnnotationFactory(item=items[1], split=train, label=ant, coordinates="1,1,2,2")
    AnnotationFactory(item=items[1], split=train, label=ant, coordinates="3,3,4,4")
    AnnotationFactory(item=items[1], split=train, label=zebra, coordinates="5,5,6,6")
    assert rows(api, train) == [
        (str(zebra.pk), 1, 1),
        (str(ant.pk), 3, 2),
        (str(mole.pk), 0, 0),
        ("", 0, 2),
    ]
    assert total(api, train) == (4, 4)
    assert_stats_exact()


def test_stats_are_per_split(api, version, splits):
    train, valid = splits["train"], splits["valid"]
    cat = LabelFactory(version=version, name="cat")
    item = ItemFactory(dataset_version=version, splits=[train, valid])
    AnnotationFactory(item=item, split=train, label=cat)
    assert rows(api, train) == [(str(cat.pk), 1, 1), ("", 0, 0)]
    assert rows(api, valid) == [(str(cat.pk), 0, 0), ("", 0, 1)]
    assert total(api, valid) == (0, 1)


def test_stats_stay_exact_through_every_kind_of_write(api, version, splits):
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    cat, dog = LabelFactory(version=version, name="cat"), LabelFactory(version=version, name="dog")
    a = ItemFactory(dataset_version=version, splits=[train, valid])
    b = ItemFactory(dataset_version=version, splits=[train])
    c = ItemFactory(dataset_version=version, splits=[valid, test])
    AnnotationFactory(item=a, split=train, label=cat)
    AnnotationFactory(item=b, split=train, label=dog, coordinates="1,1,2,2")
    AnnotationFactory(item=c, split=valid, label=dog)
    assert_stats_exact()

    add_inferences(
        split=train,
        user=None,
        keep_annotations=True,
        inferences=[
            {"prediction": "cat"},
            {"inference_items": [{"prediction": "dog", "coordinates": "x"}, {"prediction": "cat"}]},
        ],
    )
    assert_stats_exact()
    item_add_to_split(item=b, split=test)
    assert_stats_exact()
    item_delete(item=c)
    assert_stats_exact()
    base = {"dataset_id": version.dataset_id, "version_id": version.pk}
    api.delete(reverse("split-remove-item", kwargs={**base, "pk": train.pk, "item_id": a.pk}))
    assert_stats_exact()
    api.delete(reverse("label-detail", kwargs={**base, "pk": dog.pk}))
    assert_stats_exact()
    new_split = api.post(
        reverse("split-list", kwargs=base), {"name": "extra"}, format="json"
    ).json()
    api.post(reverse("label-list", kwargs=base), {"name": "bird"}, format="json")
    assert_stats_exact()
    api.delete(reverse("split-detail", kwargs={**base, "pk": valid.pk}))
    assert_stats_exact()

    # And the API answers what a fresh count says.
    # train: b (its dog region went with the label) and the two inference items (cat each).
    assert total(api, train) == (2, 3)
    assert total(api, train) == (
        Annotation.objects.filter(split=train).count(),
        Item.objects.filter(splits=train).count(),
    )
    bird = version.labels.get(name="bird")
    assert rows(api, train) == [(str(cat.pk), 2, 2), (str(bird.pk), 0, 0), ("", 0, 1)]
    assert rows(api, test)[-1] == ("", 0, 1)
    extra = train.version.splits.get(pk=new_split["id"])
    assert [r[1:] for r in rows(api, extra)] == [(0, 0), (0, 0), (0, 0)]


def test_stats_of_a_split_of_another_version_is_404(api, dataset, version, splits):
    foreign = SplitFactory(version=VersionFactory(dataset=dataset, name="v2"), name="s")
    base = {"dataset_id": dataset.pk, "version_id": version.pk, "split_id": foreign.pk}
    for name in ("label-stats", "split-total"):
        response = api.get(reverse(name, kwargs=base))
        assert response.status_code == 404
        assert response.json()["message"]


def test_stats_of_a_deleted_split_is_404(api, splits):
    train = splits["train"]
    url = stats_url(train)
    api.delete(
        reverse(
            "split-detail",
            kwargs={
                "dataset_id": train.version.dataset_id,
                "version_id": train.version_id,
                "pk": train.pk,
            },
        )
    )
    assert api.get(url).status_code == 404
