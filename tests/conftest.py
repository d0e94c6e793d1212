import pytest
from django.db import connection
from rest_framework.test import APIClient

from labels.models import Annotation, Label, LabelStat
from labels.selectors import label_stats_drift
from seeme import services
from seeme.models import APIKey, Dataset, DatasetShare, Item, ItemState, User, Version
from splits.models import DatasetSplit, ItemSplit
from tests.factories import DatasetFactory, UserFactory


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """PBKDF2 costs ~0.3 s per user; tests need a hash, not its strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


def client_for(user) -> APIClient:
    """An API client authenticated with a fresh API key of ``user`` (None: anonymous)."""
    client = APIClient()
    if user is not None:
        _, raw = services.apikey_create(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def dataset(user):
    """A single-label dataset of ``user`` with v1 and train / valid / test."""
    return DatasetFactory(owner=user)


@pytest.fixture
def version(dataset):
    return dataset.versions.get()


@pytest.fixture
def splits(version):
    return {s.name: s for s in version.splits.all()}


def assert_stats_exact(split_ids=None):
    """Every LabelStat row equals a fresh recount (of the given splits, default all)."""
    if split_ids is None:
        split_ids = list(LabelStat.objects.values_list("split_id", flat=True).distinct())
    drift = label_stats_drift(split_ids=list(split_ids))
    assert drift == [], drift


def planner_knows_version(version_id) -> bool:
    """Whether PostgreSQL's planner statistics of the item table name ``version_id`` among
    its versions (it has been ANALYZEd since that version got its items)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'seeme_item' AND attname = 'dataset_version_id'"
        )
        known = cursor.fetchone()
    return known is not None and str(version_id) in known[0]


def db_snapshot() -> dict:
    """Every row of every table the API writes, with the columns a write would touch: equal
    snapshots before and after a refused request mean it wrote nothing."""
    columns = {
        User: ("pk", "password", "is_active"),
        APIKey: ("pk", "revoked_at", "updated_at"),
        Dataset: ("pk", "updated_at"),
        DatasetShare: ("pk", "role"),
        Version: ("pk", "updated_at"),
        DatasetSplit: ("pk", "updated_at"),
        ItemSplit: ("pk",),
        Item: ("pk", "version", "updated_at"),
        Label: ("pk", "updated_at"),
        Annotation: ("pk", "updated_at"),
        LabelStat: ("pk", "annotation_count", "item_count"),
        ItemState: ("pk", "state", "version"),
    }
    return {
        model.__name__: list(model.objects.order_by("pk").values_list(*cols))
        for model, cols in columns.items()
    }


@pytest.fixture(autouse=True)
def media_storage(settings, tmp_path):
    """Item files of each test go to its own directory, never to var/media/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"
