"""factory-boy factories. Rows that carry statistics are created through the services, so a
factory-made world has exact LabelStat rows like a real one."""

import factory
from factory.django import DjangoModelFactory

from labels import services as label_services
from labels.models import Annotation, Label
from seeme import services
from seeme.models import Dataset, Item, Role, User, Version
from splits.models import DatasetSplit

PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.django.Password(PASSWORD)


class DatasetFactory(DjangoModelFactory):
    """A dataset with its first version (``v1``), made by the real service."""

    class Meta:
        model = Dataset

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"dataset {n}")
    multi_label = False
    default_splits = True
    content_type = "images"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return label_services.dataset_create(**kwargs)


class VersionFactory(DjangoModelFactory):
    class Meta:
        model = Version

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"v{n + 100}")

    @classmethod
    def _create(cls, model_class, *args, dataset, name, **kwargs):
        return services.version_create(dataset=dataset, user=dataset.owner, name=name)


class SplitFactory(DjangoModelFactory):
    class Meta:
        model = DatasetSplit

    version = factory.SubFactory(VersionFactory)
    name = factory.Sequence(lambda n: f"split{n}")

    @classmethod
    def _create(cls, model_class, *args, version, name, **kwargs):
        return label_services.split_create(version=version, user=None, name=name, **kwargs)


class LabelFactory(DjangoModelFactory):
    class Meta:
        model = Label

    version = factory.SubFactory(VersionFactory)
    name = factory.Sequence(lambda n: f"label{n}")

    @classmethod
    def _create(cls, model_class, *args, version, name, **kwargs):
        return label_services.label_create(version=version, user=None, name=name, **kwargs)


class ItemFactory(DjangoModelFactory):
    """An item; pass ``splits=[...]`` to make it a member."""

    class Meta:
        model = Item

    dataset_version = factory.SubFactory(VersionFactory)
    name = factory.Sequence(lambda n: f"item-{n:05d}.jpg")
    text = ""

    @classmethod
    def _create(cls, model_class, *args, dataset_version, splits=(), **kwargs):
        return label_services.item_create(
            version=dataset_version, user=None, split_ids=[s.pk for s in splits], **kwargs
        )


class AnnotationFactory(DjangoModelFactory):
    class Meta:
        model = Annotation

    @classmethod
    def _create(cls, model_class, *args, item, split, label, coordinates="", user=None):
        return label_services.annotation_create(
            version=split.version,
            user=user,
            label_id=label.pk,
            item_id=item.pk,
            split_id=split.pk,
            coordinates=coordinates,
        )


def share(dataset: Dataset, user: User, role: str = Role.VIEWER):
    return services.dataset_share(dataset=dataset, identifier=user.username, role=role)[0]
