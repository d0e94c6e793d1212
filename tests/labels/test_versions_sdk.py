"""The official SDK's duplicate_dataset_version against a live server."""

import pytest

from labels import services as label_services
from tests.conftest import assert_stats_exact
from tests.factories import DatasetFactory, ItemFactory, LabelFactory, UserFactory
from tests.test_sdk_e2e import logged_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdk_duplicate_dataset_version_reads_the_copy_back(live_server):
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    LabelFactory(version=version, name="cat")
    label_services.add_inferences(
        split=train,
        user=None,
        inferences=[{"name": f"c{i}", "prediction": "cat"} for i in range(3)],
    )
    ItemFactory(dataset_version=version, splits=[train])
    client = logged_in(live_server.url + "/api/v1/", owner)

    copy = client.duplicate_dataset_version(str(dataset.pk), str(version.pk))

    assert copy.id != str(version.pk) and copy.dataset_id == str(dataset.pk)
    assert copy.name == "v2"
    assert [label.name for label in copy.labels] == ["cat"]
    assert [split.name for split in copy.splits] == ["train", "valid", "test"]
    copy_train = next(s for s in copy.splits if s.name == "train")
    rows = client.get_label_stats(str(dataset.pk), copy.id, copy_train.id)
    assert sorted((r.label_id != "", r.item_count, r.annotation_count) for r in rows) == [
        (False, 1, 0),
        (True, 3, 3),
    ]
    assert_stats_exact()
