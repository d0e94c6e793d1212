from django.urls import reverse

from tests.conftest import assert_stats_exact
from tests.factories import AnnotationFactory, ItemFactory, LabelFactory


def test_stats_follow_an_annotation(api, dataset, version, splits):
    train = splits["train"]
    cat = LabelFactory(version=version, name="cat")
    item = ItemFactory(dataset_version=version, splits=[train])
    AnnotationFactory(item=item, split=train, label=cat)
    url = reverse(
        "label-stats",
        kwargs={"dataset_id": dataset.pk, "version_id": version.pk, "split_id": train.pk},
    )
    rows = api.get(url).json()
    assert [(r["label_id"], r["annotation_count"], r["item_count"]) for r in rows] == [
        (str(cat.pk), 1, 1),
        ("", 0, 0),
    ]
    assert_stats_exact()
