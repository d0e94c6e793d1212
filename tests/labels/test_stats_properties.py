"""Property test: random sequences of the API's writes keep every LabelStat row exact.

A hypothesis state machine drives one dataset (single- or multi-label) through the HTTP API
(labels, splits, items, annotations whole and region, re-labels, moves between splits,
deletes, items removed from splits, add_inferences with keep_annotations true and false)
and through the services the API does not expose (adding an item to a split, deleting an
item). After every step every row of every split of the version must equal a fresh recount,
and no request may answer 5xx (the test client re-raises server errors).

Runs on SQLite and PostgreSQL. Size: ``SEEME_STATS_PROFILE=ci`` (default, bounded for CI) or
``thorough`` (minutes, for a local soak).
"""

import itertools
import os

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from labels import services
from labels.models import Annotation, LabelStat
from labels.selectors import label_stats_drift, label_stats_recount
from seeme.models import Item, Version
from splits.models import DatasetSplit, ItemSplit
from tests.conftest import client_for
from tests.factories import UserFactory

PROFILES = {
    "ci": settings(
        max_examples=15,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    ),
    "thorough": settings(
        max_examples=300,
        stateful_step_count=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=True,
    ),
}
PROFILE = PROFILES[os.environ.get("SEEME_STATS_PROFILE", "ci")]

LABEL_NAMES = ["cat", "dog", "bird", "fish"]
SPLIT_NAMES = ["train", "valid", "test", "holdout"]
REGION = "[0.1, 0.2, 0.3, 0.4]"
coordinates = st.sampled_from(["", "", REGION])
prediction = st.one_of(st.none(), st.sampled_from(LABEL_NAMES), st.just("zebra"))
inference = st.fixed_dictionaries(
    {
        "prediction": prediction,
        "confidence": st.floats(0, 1),
        "inference_items": st.lists(
            st.fixed_dictionaries(
                {
                    "prediction": prediction,
                    "confidence": st.floats(0, 1),
                    "coordinates": coordinates,
                }
            ),
            max_size=3,
        ),
    }
)


def _have(*names):
    """Precondition: the machine has created at least one of each kind of object named."""
    return precondition(lambda self: all(getattr(self, name) for name in names))


class StatsMachine(RuleBasedStateMachine):
    """One dataset version, written through the API; stats checked after every step.

    The machine remembers every id it was given, deleted ones included (so writes also hit
    objects that are gone), in creation order: draws by position replay the same sequence.
    """

    def __init__(self):
        super().__init__()
        self.user = UserFactory()
        self.client = client_for(self.user)
        self.names = itertools.count()
        self.labels: list[str] = []
        self.splits: list[str] = []
        self.items: list[str] = []
        self.annotations: list[str] = []

    # -- plumbing --------------------------------------------------------------------------

    def url(self, name: str, **kwargs) -> str:
        return reverse(
            name, kwargs={"dataset_id": self.dataset_id, "version_id": self.version_id, **kwargs}
        )

    def call(self, method: str, url: str, body=None, allowed=(200,)):
        response = getattr(self.client, method)(url, body, format="json")
        assert response.status_code in allowed, (method, url, body, response.content[:300])
        return response

    def split_ids(self) -> list:
        return list(
            DatasetSplit.objects.filter(version_id=self.version_id).values_list("id", flat=True)
        )

    def new_item(self, split_ids) -> None:
        response = self.call(
            "post",
            self.url("item-list"),
            {
                "name": f"item-{next(self.names):04d}",
                "splits": [{"id": s} for s in split_ids],
            },
            allowed=(201, 400),
        )
        if response.status_code == 201:
            self.items.append(response.json()["id"])

    # -- setup: a dataset with splits, two labels, a few items, three annotated -------------

    @initialize(multi_label=st.booleans(), default_splits=st.booleans())
    def create_dataset(self, multi_label, default_splits):
        body = self.call(
            "post",
            reverse("dataset-list"),
            {
                "name": "property",
                "multi_label": multi_label,
                "default_splits": default_splits,
            },
            allowed=(201,),
        ).json()
        self.dataset_id = body["id"]
        self.version_id = body["versions"][0]["id"]
        self.version = Version.objects.select_related("dataset").get(pk=self.version_id)
        self.splits = [s["id"] for s in body["versions"][0]["splits"]]
        if not default_splits:
            self.create_split("train")
        for name in LABEL_NAMES[:2]:
            self.create_label(name)
        for n in range(4):
            split = self.splits[n % len(self.splits)]
            self.new_item([split])
            if n < 3:
                self._annotate(self.items[-1], split, self.labels[n % 2], ["", REGION][n // 2])

    # -- structure -------------------------------------------------------------------------

    @rule(name=st.sampled_from(LABEL_NAMES))
    def create_label(self, name):
        response = self.call("post", self.url("label-list"), {"name": name}, (201, 409))
        if response.status_code == 201:
            self.labels.append(response.json()["id"])

    @_have("labels")
    @rule(data=st.data())
    def delete_label(self, data):
        label = data.draw(st.sampled_from(self.labels))
        self.call("delete", self.url("label-detail", pk=label), allowed=(204, 404))

    @rule(name=st.sampled_from(SPLIT_NAMES))
    def create_split(self, name):
        response = self.call("post", self.url("split-list"), {"name": name}, (201, 409))
        if response.status_code == 201:
            self.splits.append(response.json()["id"])

    @_have("splits")
    @rule(data=st.data())
    def delete_split(self, data):
        split = data.draw(st.sampled_from(self.splits))
        self.call("delete", self.url("split-detail", pk=split), allowed=(204, 404))

    # -- items and membership --------------------------------------------------------------

    @_have("splits")
    @rule(data=st.data())
    def create_item(self, data):
        self.new_item(data.draw(st.lists(st.sampled_from(self.splits), max_size=3, unique=True)))

    @_have("items", "splits")
    @rule(data=st.data())
    def add_item_to_split(self, data):
        item = Item.objects.filter(pk=data.draw(st.sampled_from(self.items))).first()
        split = (
            DatasetSplit.objects.select_related("version")
            .filter(pk=data.draw(st.sampled_from(self.splits)))
            .first()
        )
        if item is not None and split is not None:
            services.item_add_to_split(item=item, split=split)

    @_have("items", "splits")
    @rule(data=st.data())
    def remove_item_from_split(self, data):
        item = data.draw(st.sampled_from(self.items))
        split = data.draw(st.sampled_from(self.splits))
        self.call(
            "delete", self.url("split-remove-item", pk=split, item_id=item), allowed=(200, 404)
        )

    @_have("items")
    @rule(data=st.data())
    def delete_item(self, data):
        item = (
            Item.objects.select_related("dataset_version")
            .filter(pk=data.draw(st.sampled_from(self.items)))
            .first()
        )
        if item is not None:
            services.item_delete(item=item)

    @_have("splits")
    @rule(data=st.data(), keep=st.booleans(), inferences=st.lists(inference, max_size=4))
    def add_inferences(self, data, keep, inferences):
        split = data.draw(st.sampled_from(self.splits))
        body = {
            "keep_annotations": keep,
            "inferences": [{**inf, "name": f"item-{next(self.names):04d}"} for inf in inferences],
        }
        response = self.call(
            "post", self.url("split-add-inferences", pk=split), body, allowed=(200, 400, 404)
        )
        if response.status_code == 200:
            self.items += [i["dataset_item_id"] for i in response.json()["inferences"]]

    # -- annotations -----------------------------------------------------------------------

    def _annotate(self, item, split, label, coords) -> None:
        response = self.call(
            "post",
            self.url("annotation-list"),
            {
                "label_id": label,
                "item_id": item,
                "split_id": split,
                "coordinates": coords,
            },
            allowed=(201, 400),
        )
        if response.status_code == 201:
            self.annotations.append(response.json()["id"])

    @_have("items", "splits", "labels")
    @rule(data=st.data(), coords=coordinates)
    def annotate(self, data, coords):
        """Any item, split and label the machine knows: often refused (400), never a 5xx."""
        self._annotate(
            data.draw(st.sampled_from(self.items)),
            data.draw(st.sampled_from(self.splits)),
            data.draw(st.sampled_from(self.labels)),
            coords,
        )

    @_have("labels")
    @rule(data=st.data(), coords=coordinates)
    def annotate_a_member(self, data, coords):
        """Annotate an existing (item, split) membership with a live label: succeeds."""
        pairs = sorted(
            ItemSplit.objects.filter(split__version_id=self.version_id).values_list(
                "item__name", "split__name", "item_id", "split_id"
            )
        )
        labels = list(self.version.labels.order_by("index").values_list("id", flat=True))
        if pairs and labels:
            _, _, item, split = data.draw(st.sampled_from(pairs))
            self._annotate(str(item), str(split), str(data.draw(st.sampled_from(labels))), coords)

    @_have("annotations", "labels")
    @rule(data=st.data())
    def relabel(self, data):
        annotation = data.draw(st.sampled_from(self.annotations))
        self.call(
            "put",
            self.url("annotation-detail", pk=annotation),
            {"label_id": data.draw(st.sampled_from(self.labels))},
            allowed=(200, 400, 404),
        )

    @_have("annotations", "splits")
    @rule(data=st.data())
    def move_to_split(self, data):
        annotation = data.draw(st.sampled_from(self.annotations))
        self.call(
            "put",
            self.url("annotation-detail", pk=annotation),
            {"split_id": data.draw(st.sampled_from(self.splits))},
            allowed=(200, 400, 404),
        )

    @_have("annotations")
    @rule(data=st.data(), coords=coordinates)
    def change_coordinates(self, data, coords):
        annotation = data.draw(st.sampled_from(self.annotations))
        self.call(
            "put",
            self.url("annotation-detail", pk=annotation),
            {"coordinates": coords},
            allowed=(200, 404),
        )

    @_have("annotations")
    @rule(data=st.data())
    def delete_annotation(self, data):
        annotation = data.draw(st.sampled_from(self.annotations))
        self.call("delete", self.url("annotation-detail", pk=annotation), allowed=(200, 404))

    # -- reads -----------------------------------------------------------------------------

    @_have("splits")
    @rule(data=st.data())
    def read_stats(self, data):
        """The endpoint answers the recount: one row per label by index, then unlabelled."""
        split = data.draw(st.sampled_from(self.splits))
        response = self.call("get", self.url("label-stats", split_id=split), allowed=(200, 404))
        if response.status_code == 404:
            return
        split_row = DatasetSplit.objects.get(pk=split)
        expected = label_stats_recount(split_ids=[split_row.pk])
        label_ids = list(self.version.labels.order_by("index").values_list("id", flat=True))
        wanted = [
            expected[(split_row.pk, LabelStat.Kind.LABEL, label_id)] for label_id in label_ids
        ]
        wanted.append(expected[(split_row.pk, LabelStat.Kind.UNLABELLED, None)])
        got = response.json()
        assert [r["label_id"] for r in got] == [str(i) for i in label_ids] + [""]
        assert [(r["annotation_count"], r["item_count"]) for r in got] == [
            (c.annotation_count, c.item_count) for c in wanted
        ]

    # -- the property ----------------------------------------------------------------------

    @invariant()
    def stats_equal_a_recount(self):
        if not hasattr(self, "version_id"):
            return
        split_ids = self.split_ids()
        assert label_stats_drift(split_ids=split_ids) == []
        rows = LabelStat.objects.filter(split_id__in=split_ids)
        assert rows.count() == len(split_ids) * (2 + self.version.labels.count())


@pytest.mark.django_db
def test_random_api_writes_keep_stats_exact():
    run_state_machine_as_test(StatsMachine, settings=PROFILE)


def test_the_property_catches_a_write_that_bypasses_the_stats(db, monkeypatch):
    """Not vacuous: with annotation deletes going around ``labels.stats``, it fails."""

    def bypass(*, annotation):
        Annotation.objects.filter(pk=annotation.pk).delete()
        return annotation

    monkeypatch.setattr(services, "annotation_delete", bypass)
    quick = settings(
        PROFILE,
        max_examples=100,
        phases=[Phase.generate],
        derandomize=True,
        database=None,
        print_blob=False,
    )
    with pytest.raises(AssertionError, match="Drift"):
        run_state_machine_as_test(StatsMachine, settings=quick)
