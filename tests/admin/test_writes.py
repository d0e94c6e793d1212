"""Admin edits go through the services: after each one the statistics equal a fresh count, and
the edit did what the manager asked."""

import hashlib

import pytest
from django.db import OperationalError

from labels import services as label_services
from labels.models import Annotation, Label, LabelStat
from seeme import services
from seeme.exceptions import Conflict
from seeme.models import Dataset, DatasetShare, Item, Version
from splits.models import DatasetSplit, ItemSplit
from tests.admin.conftest import add_row, admin_url, build_world, errors_of, form_data, row_of
from tests.conftest import assert_stats_exact
from tests.factories import AnnotationFactory, DatasetFactory, ItemFactory

Kind = LabelStat.Kind


def stat(split, label=None, kind=Kind.LABEL) -> LabelStat:
    if label is not None:
        return LabelStat.objects.get(split=split, label=label)
    return LabelStat.objects.get(split=split, kind=kind)


def splits_of(item) -> set[str]:
    return set(ItemSplit.objects.filter(item=item).values_list("split__name", flat=True))


def change(client, obj, edit=None):
    """GET the change page of ``obj``, apply ``edit(data)`` and POST it back."""
    url = admin_url(type(obj), "change", obj)
    data = form_data(client.get(url))
    if edit is not None:
        edit(data)
    return client.post(url, data)


def add(client, model, **values):
    url = admin_url(model, "add")
    data = form_data(client.get(url))
    data.update({k: str(v) for k, v in values.items()})
    return client.post(url, data)


def delete(client, obj):
    return client.post(admin_url(type(obj), "delete", obj), {"post": "yes"})


def bulk_delete(client, model, objs):
    return client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(o.pk) for o in objs], "post": "yes"},
    )


# -- annotations ----------------------------------------------------------------------------------


def test_annotation_added_in_the_annotation_admin(manager, world):
    response = add(
        manager,
        Annotation,
        item=world.two.pk,
        split=world.train.pk,
        label=world.dog.pk,
        coordinates="",
    )
    assert response.status_code == 302
    assert Annotation.objects.filter(item=world.two, split=world.train, label=world.dog).exists()
    assert stat(world.train, world.dog).item_count == 1
    assert stat(world.train, kind=Kind.UNLABELLED).item_count == 0
    assert_stats_exact()


def test_annotation_added_on_the_item_page(manager, world):
    response = change(
        manager,
        world.two,
        lambda d: add_row(
            d, "annotations", label=world.dog.pk, split=world.train.pk, coordinates="10,10,20,20"
        ),
    )
    assert response.status_code == 302
    created = Annotation.objects.get(item=world.two)
    assert (created.label, created.split, created.coordinates) == (
        world.dog,
        world.train,
        "10,10,20,20",
    )
    assert created.user is not None
    assert_stats_exact()


def test_whole_item_annotation_replaces_on_a_single_label_dataset(manager, world):
    response = change(
        manager,
        world.one,
        lambda d: add_row(
            d, "annotations", label=world.dog.pk, split=world.train.pk, coordinates=""
        ),
    )
    assert response.status_code == 302
    labels = set(
        Annotation.objects.filter(item=world.one, split=world.train).values_list(
            "label__name", flat=True
        )
    )
    assert labels == {"dog"}
    assert stat(world.train, world.cat).annotation_count == 0
    assert_stats_exact()


def test_annotation_relabelled_in_the_annotation_admin(manager, world):
    response = change(manager, world.annotation, lambda d: d.update(label=str(world.dog.pk)))
    assert response.status_code == 302
    world.annotation.refresh_from_db()
    assert world.annotation.label == world.dog
    assert stat(world.train, world.cat).item_count == 0
    assert stat(world.train, world.dog).item_count == 1
    assert_stats_exact()


def test_annotation_moved_to_another_split_in_the_annotation_admin(manager, world):
    response = change(manager, world.annotation, lambda d: d.update(split=str(world.valid.pk)))
    assert response.status_code == 302
    world.annotation.refresh_from_db()
    assert world.annotation.split == world.valid
    assert stat(world.valid, world.cat).item_count == 1
    assert stat(world.train, world.cat).item_count == 0
    assert_stats_exact()


def test_annotation_relabelled_and_moved_on_the_item_page(manager, world):
    def edit(data):
        row = row_of(data, "annotations", world.annotation)
        data[f"{row}-label"] = str(world.dog.pk)
        data[f"{row}-split"] = str(world.valid.pk)

    assert change(manager, world.one, edit).status_code == 302
    world.annotation.refresh_from_db()
    assert (world.annotation.label, world.annotation.split) == (world.dog, world.valid)
    assert_stats_exact()


def test_annotation_deleted_in_the_annotation_admin(manager, world):
    assert delete(manager, world.annotation).status_code == 302
    assert not Annotation.objects.exists()
    assert stat(world.train, kind=Kind.UNLABELLED).item_count == 2
    assert_stats_exact()


def test_annotation_deleted_on_the_item_page(manager, world):
    def edit(data):
        data[f"{row_of(data, 'annotations', world.annotation)}-DELETE"] = "on"

    assert change(manager, world.one, edit).status_code == 302
    assert not Annotation.objects.exists()
    assert_stats_exact()


def test_annotations_bulk_deleted(manager, world):
    second = AnnotationFactory(item=world.two, split=world.train, label=world.dog)
    third = AnnotationFactory(item=world.one, split=world.valid, label=world.dog)
    response = bulk_delete(manager, Annotation, [world.annotation, second, third])
    assert response.status_code == 302
    assert not Annotation.objects.exists()
    assert stat(world.train, kind=Kind.TOTAL).annotation_count == 0
    assert_stats_exact()


# -- membership -----------------------------------------------------------------------------------


def test_item_moved_to_another_split_on_the_item_page_keeps_its_annotations(manager, world):
    membership = ItemSplit.objects.get(item=world.one, split=world.train)

    def edit(data):
        data[f"{row_of(data, 'memberships', membership)}-split"] = str(world.test.pk)

    assert change(manager, world.one, edit).status_code == 302
    assert splits_of(world.one) == {"test", "valid"}
    world.annotation.refresh_from_db()
    assert world.annotation.split == world.test
    assert stat(world.test, world.cat).item_count == 1
    assert stat(world.train, kind=Kind.TOTAL).item_count == 1
    assert_stats_exact()


def test_item_added_to_and_removed_from_splits_on_the_item_page(manager, world):
    valid = ItemSplit.objects.get(item=world.one, split=world.valid)
    AnnotationFactory(item=world.one, split=world.valid, label=world.dog)

    def edit(data):
        data[f"{row_of(data, 'memberships', valid)}-DELETE"] = "on"
        add_row(data, "memberships", split=world.test.pk)

    assert change(manager, world.one, edit).status_code == 302
    assert splits_of(world.one) == {"train", "test"}
    assert not Annotation.objects.filter(split=world.valid).exists()
    assert stat(world.test, kind=Kind.UNLABELLED).item_count == 1
    assert_stats_exact()


def test_joining_a_split_and_annotating_there_in_one_save(manager, world):
    def edit(data):
        add_row(data, "memberships", split=world.test.pk)
        add_row(data, "annotations", label=world.dog.pk, split=world.test.pk, coordinates="")

    assert change(manager, world.two, edit).status_code == 302
    assert stat(world.test, world.dog).item_count == 1
    assert_stats_exact()


def test_removing_the_last_split_on_the_item_page_is_refused(manager, world):
    membership = ItemSplit.objects.get(item=world.two)

    def edit(data):
        data[f"{row_of(data, 'memberships', membership)}-DELETE"] = "on"

    response = change(manager, world.two, edit)
    assert any("at least one split" in e for e in errors_of(response))
    assert splits_of(world.two) == {"train"}
    assert_stats_exact()


def test_membership_admin_adds_moves_and_removes(manager, world):
    assert add(manager, ItemSplit, item=world.two.pk, split=world.test.pk).status_code == 302
    assert splits_of(world.two) == {"train", "test"}
    assert_stats_exact()

    membership = ItemSplit.objects.get(item=world.one, split=world.train)
    response = change(manager, membership, lambda d: d.update(split=str(world.test.pk)))
    assert response.status_code == 302
    assert splits_of(world.one) == {"test", "valid"}
    assert Annotation.objects.get().split == world.test
    assert_stats_exact()

    assert (
        delete(manager, ItemSplit.objects.get(item=world.two, split=world.test)).status_code == 302
    )
    assert splits_of(world.two) == {"train"}
    assert_stats_exact()


def test_removing_an_items_last_split_in_the_membership_admin_deletes_it(manager, world):
    response = delete(manager, ItemSplit.objects.get(item=world.two))
    assert response.status_code == 302
    assert not Item.objects.filter(pk=world.two.pk).exists()
    page = manager.get(response["Location"])
    assert any("was deleted" in str(m) for m in page.context["messages"])
    assert_stats_exact()


def test_membership_in_a_split_of_another_version_is_a_form_error(manager, world, other_user):
    other = build_world(other_user, tag="b")
    response = add(manager, ItemSplit, item=world.two.pk, split=other.test.pk)
    assert any("different versions" in e for e in errors_of(response))
    assert splits_of(world.two) == {"train"}
    assert_stats_exact()


# -- items ------------------------------------------------------------------------------------


def test_item_created_edited_and_deleted(manager, world):
    response = add(
        manager,
        Item,
        dataset_version=world.version.pk,
        name="new.jpg",
        text="hello",
        group="patient-7",
    )
    assert response.status_code == 302
    item = Item.objects.get(name="new.jpg")
    assert (item.dataset_version, item.group) == (world.version, "patient-7")
    assert item.content_hash == hashlib.sha256(b"hello").hexdigest()

    response = change(manager, item, lambda d: d.update(description="a dog, maybe"))
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.description, item.version) == ("a dog, maybe", 2)

    assert delete(manager, world.one).status_code == 302
    assert not Item.objects.filter(pk=world.one.pk).exists()
    assert not Annotation.objects.exists()
    assert stat(world.valid, kind=Kind.TOTAL).item_count == 0
    assert_stats_exact()


def test_item_edit_after_someone_else_changed_it_is_a_form_error(manager, world):
    url = admin_url(Item, "change", world.two)
    data = form_data(manager.get(url))
    services.item_update(item=world.two, data={"name": "renamed elsewhere.jpg"})
    data["description"] = "mine"
    response = manager.post(url, data)
    assert any("changed since it was read" in e for e in errors_of(response))
    world.two.refresh_from_db()
    assert (world.two.name, world.two.description) == ("renamed elsewhere.jpg", "")


def test_items_bulk_deleted(manager, world):
    assert bulk_delete(manager, Item, [world.one, world.two]).status_code == 302
    assert not Item.objects.exists()
    assert stat(world.train, kind=Kind.TOTAL).item_count == 0
    assert_stats_exact()


# -- labels ---------------------------------------------------------------------------------------


def test_label_created_in_the_label_admin_gets_rows_and_a_palette_colour(manager, world):
    response = add(manager, Label, version=world.version.pk, name="bird", color="")
    assert response.status_code == 302
    bird = Label.objects.get(name="bird")
    assert (bird.index, bird.color) == (2, "#e15759")
    assert LabelStat.objects.filter(label=bird).count() == 3
    assert_stats_exact()


def test_label_renamed_keeps_its_colour_when_the_colour_is_emptied(manager, world):
    colour = world.cat.color
    response = change(manager, world.cat, lambda d: d.update(name="kitty", color=""))
    assert response.status_code == 302
    world.cat.refresh_from_db()
    assert (world.cat.name, world.cat.color) == ("kitty", colour)


def test_label_deleted_in_the_label_admin(manager, world):
    assert delete(manager, world.cat).status_code == 302
    assert not Label.objects.filter(pk=world.cat.pk).exists()
    assert not Annotation.objects.exists()
    assert stat(world.train, kind=Kind.UNLABELLED).item_count == 2
    assert_stats_exact()


def test_labels_created_and_deleted_on_the_version_page(manager, world):
    def edit(data):
        data[f"{row_of(data, 'labels', world.cat)}-DELETE"] = "on"
        add_row(data, "labels", name="bird", color="#123456", shortcut="b", description="")

    assert change(manager, world.version, edit).status_code == 302
    assert set(Label.objects.values_list("name", flat=True)) == {"dog", "bird"}
    assert Label.objects.get(name="bird").color == "#123456"
    assert_stats_exact()


def test_labels_bulk_deleted(manager, world):
    assert bulk_delete(manager, Label, [world.cat, world.dog]).status_code == 302
    assert not Label.objects.exists()
    assert_stats_exact()


# -- splits ---------------------------------------------------------------------------------------


def test_split_created_and_deleted_in_the_split_admin(manager, world):
    response = add(manager, DatasetSplit, version=world.version.pk, name="holdout")
    assert response.status_code == 302
    holdout = DatasetSplit.objects.get(name="holdout")
    assert LabelStat.objects.filter(split=holdout).count() == 4
    assert_stats_exact()

    assert delete(manager, world.train).status_code == 302
    assert not DatasetSplit.objects.filter(pk=world.train.pk).exists()
    assert not Annotation.objects.exists()
    assert Item.objects.count() == 2  # items stay in the version
    assert_stats_exact()


def test_splits_created_and_deleted_on_the_version_page(manager, world):
    def edit(data):
        data[f"{row_of(data, 'splits', world.valid)}-DELETE"] = "on"
        add_row(data, "splits", name="holdout", description="")

    assert change(manager, world.version, edit).status_code == 302
    assert set(DatasetSplit.objects.values_list("name", flat=True)) == {"train", "test", "holdout"}
    assert_stats_exact()


def test_splits_bulk_deleted(manager, world):
    assert bulk_delete(manager, DatasetSplit, [world.train, world.valid]).status_code == 302
    assert list(DatasetSplit.objects.values_list("name", flat=True)) == ["test"]
    assert_stats_exact()


def test_duplicate_split_name_is_a_form_error(manager, world):
    response = add(manager, DatasetSplit, version=world.version.pk, name="train")
    assert errors_of(response)
    assert DatasetSplit.objects.filter(name="train").count() == 1


# -- datasets and versions --------------------------------------------------------------------


def test_dataset_created_with_default_splits(manager, user):
    response = add(
        manager, Dataset, owner=user.pk, name="birds", content_type="images", default_splits="on"
    )
    assert response.status_code == 302
    dataset = Dataset.objects.get(name="birds")
    version = dataset.versions.get()
    assert version.name == "v1"
    assert set(version.splits.values_list("name", flat=True)) == {"train", "valid", "test"}
    assert_stats_exact()


def test_dataset_deleted(manager, world):
    keep = DatasetFactory(owner=world.dataset.owner)
    assert delete(manager, world.dataset).status_code == 302
    assert list(Dataset.objects.all()) == [keep]
    assert not Item.objects.exists()
    assert not LabelStat.objects.filter(split__version__dataset=world.dataset).exists()
    assert_stats_exact()


def test_datasets_bulk_deleted(manager, world, user):
    other = DatasetFactory(owner=user)
    version = other.versions.get()
    ItemFactory(dataset_version=version, splits=list(version.splits.all()))
    assert bulk_delete(manager, Dataset, [world.dataset, other]).status_code == 302
    assert not Dataset.objects.exists()
    assert not LabelStat.objects.exists()


def test_versions_created_and_deleted_on_the_dataset_page(manager, world):
    def edit(data):
        add_row(data, "versions", name="v2", description="", default_split="")

    assert change(manager, world.dataset, edit).status_code == 302
    v2 = Version.objects.get(name="v2")
    assert v2.user is not None

    def remove(data):
        data[f"{row_of(data, 'versions', world.version)}-DELETE"] = "on"

    assert change(manager, world.dataset, remove).status_code == 302
    assert list(world.dataset.versions.all()) == [v2]
    assert not Item.objects.exists()
    assert_stats_exact()


def test_user_deleted_with_the_datasets_they_own(manager, world, other_user):
    keep = build_world(other_user, tag="b")
    owner = world.dataset.owner
    confirmation = manager.get(admin_url(type(owner), "delete", owner))
    assert dict(confirmation.context["model_count"])["items"] == 2
    assert delete(manager, owner).status_code == 302
    assert list(Dataset.objects.all()) == [keep.dataset]
    assert_stats_exact()


def test_version_deleted(manager, world):
    assert delete(manager, world.version).status_code == 302
    assert not Version.objects.exists()
    assert not LabelStat.objects.exists()


def test_shares_on_the_dataset_page(manager, world, other_user):
    def edit(data):
        add_row(data, "shares", user=other_user.pk, role="editor")

    assert change(manager, world.dataset, edit).status_code == 302
    share = DatasetShare.objects.get(dataset=world.dataset)
    assert (share.user, share.role) == (other_user, "editor")

    def remove(data):
        data[f"{row_of(data, 'shares', share)}-DELETE"] = "on"

    assert change(manager, world.dataset, remove).status_code == 302
    assert not DatasetShare.objects.exists()


def test_sharing_with_the_owner_is_a_form_error(manager, world):
    response = add(
        manager, DatasetShare, dataset=world.dataset.pk, user=world.dataset.owner.pk, role="viewer"
    )
    assert any("owner" in e for e in errors_of(response))
    assert not DatasetShare.objects.exists()


# -- service errors: form errors, nothing half-written ------------------------------------------


def test_annotation_with_a_label_of_another_version_is_a_form_error(manager, world, other_user):
    other = build_world(other_user, tag="b")
    response = add(
        manager,
        Annotation,
        item=world.two.pk,
        split=world.train.pk,
        label=other.dog.pk,
        coordinates="",
    )
    errors = errors_of(response)
    assert any("does not belong to this dataset version" in e for e in errors)
    assert "label: unknown label for this version" in errors
    assert Annotation.objects.count() == 2
    assert_stats_exact()


def test_annotation_in_a_split_the_item_is_not_in_is_a_form_error(manager, world):
    response = add(
        manager,
        Annotation,
        item=world.two.pk,
        split=world.test.pk,
        label=world.dog.pk,
        coordinates="",
    )
    assert any("not a member of this split" in e for e in errors_of(response))
    assert Annotation.objects.count() == 1
    assert_stats_exact()


def test_a_failing_row_rolls_back_the_whole_save(manager, world):
    def edit(data):
        data["description"] = "changed"
        add_row(data, "memberships", split=world.valid.pk)
        add_row(data, "annotations", label=world.dog.pk, split=world.test.pk, coordinates="")

    response = change(manager, world.two, edit)
    assert any("not a member of this split" in e for e in errors_of(response))
    # The form comes back with the input, and nothing of the save stayed.
    assert response.context["adminform"].form["description"].value() == "changed"
    world.two.refresh_from_db()
    assert (world.two.description, world.two.version) == ("", 1)
    assert splits_of(world.two) == {"train"}
    assert_stats_exact()


def test_a_service_error_on_delete_is_a_message(manager, world, monkeypatch):
    def refuse(**kwargs):
        raise Conflict("Not now: the label is busy.")

    monkeypatch.setattr(label_services, "label_delete", refuse)
    response = delete(manager, world.cat)
    assert response.status_code == 302
    page = manager.get(response["Location"])
    assert "Not now: the label is busy." in [str(m) for m in page.context["messages"]]
    assert Label.objects.filter(pk=world.cat.pk).exists()


def test_a_bulk_delete_is_all_or_nothing(manager, world, monkeypatch):
    second = AnnotationFactory(item=world.two, split=world.train, label=world.dog)
    real = label_services.annotation_delete
    calls = []

    def second_fails(*, annotation):
        calls.append(annotation.pk)
        if len(calls) == 2:
            raise Conflict("The second one is locked.")
        return real(annotation=annotation)

    monkeypatch.setattr(label_services, "annotation_delete", second_fails)
    response = bulk_delete(manager, Annotation, [world.annotation, second])
    assert response.status_code == 302
    page = manager.get(response["Location"])
    assert "The second one is locked." in [str(m) for m in page.context["messages"]]
    assert len(calls) == 2
    assert Annotation.objects.count() == 2
    assert_stats_exact()


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_save_is_retried_whole(manager, world, monkeypatch):
    """Real transactions: the retry only happens outside any transaction."""
    real = label_services.label_create
    calls = []

    def deadlock_once(**kwargs):
        calls.append(kwargs["name"])
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real(**kwargs)

    monkeypatch.setattr(label_services, "label_create", deadlock_once)
    response = add(manager, Label, version=world.version.pk, name="bird", color="")
    assert response.status_code == 302
    assert calls == ["bird", "bird"]
    assert Label.objects.filter(name="bird").count() == 1
    page = manager.get(response["Location"])
    assert len([m for m in page.context["messages"] if "bird" in str(m)]) == 1
    assert_stats_exact()


def test_a_new_dataset_with_a_clashing_inline_version_comes_back_unsaved(manager, user):
    url = admin_url(Dataset, "add")
    data = form_data(manager.get(url))
    data.update(owner=str(user.pk), name="birds", content_type="images")
    add_row(data, "versions", name="v1", description="", default_split="")
    response = manager.post(url, data)
    assert any("A version named 'v1' exists" in e for e in errors_of(response))
    assert response.context["adminform"].form["name"].value() == "birds"
    assert not Dataset.objects.filter(name="birds").exists()
