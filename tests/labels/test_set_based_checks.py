"""A version duplicate checks its foreign keys once per key, not once per row
(seeme.references.SetBasedChecks): the same guarantee, the per-row checks off only where
that is safe and allowed."""

import threading
import uuid

import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from labels import services as label_services
from labels.models import Annotation, Label
from labels.services import inferences
from labels.services.versions import version_duplicate
from seeme import references
from seeme.models import Item, ItemState, User, Version
from seeme.references import SetBasedChecks
from splits.models import DatasetSplit, ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import ItemFactory, LabelFactory, VersionFactory
from tests.labels.test_versions_diff import content

pytestmark = pytest.mark.django_db

REPLICA = "session_replication_role = replica"
postgres = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the per-row checks are skipped on PostgreSQL only"
)


@pytest.fixture(autouse=True)
def small_blocks_too(monkeypatch):
    """The test worlds are small; the set checks are for big blocks (MIN_ROWS)."""
    monkeypatch.setattr(references, "MIN_ROWS", 1)


@pytest.fixture
def world(user, version, splits):
    LabelFactory(version=version, name="cat")
    LabelFactory(version=version, name="dog")
    label_services.add_inferences(
        split=splits["train"],
        user=user,
        inferences=[{"name": f"cat-{i}", "prediction": "cat"} for i in range(6)]
        + [{"name": f"dog-{i}", "prediction": "dog"} for i in range(4)],
    )
    ItemFactory(dataset_version=version, name="both", splits=[splits["valid"], splits["test"]])
    ItemFactory.create_batch(2, dataset_version=version)  # in no split
    return version


def _sql(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


@postgres
def test_duplicate_checks_each_key_once_and_copies_everything(user, world):
    before = content(world)
    with CaptureQueriesContext(connection) as queries:
        copy = version_duplicate(version=world, user=user)
    sql = _sql(queries)
    assert any(REPLICA in s for s in sql)
    keys = sum(
        1
        for model in (Item, ItemSplit, Annotation, ItemState)
        for f in model._meta.concrete_fields
        if f.is_relation
    )
    checks = ("SELECT count(*) FROM (SELECT 1", "WITH refs")
    assert sum(1 for s in sql if s.startswith(checks)) == keys
    assert content(copy) == before
    assert_stats_exact()
    with connection.cursor() as cursor:  # nothing left queued for the commit either
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_with_the_setting_off_the_per_row_checks_run(user, world, settings):
    settings.SEEME_SET_BASED_FK_CHECKS = False
    before = content(world)
    with CaptureQueriesContext(connection) as queries:
        copy = version_duplicate(version=world, user=user)
    assert not any(REPLICA in s for s in _sql(queries))
    assert content(copy) == before
    assert_stats_exact()


def _orphan_annotation(label_id, user_id) -> None:
    """An annotation whose label or user may not exist (written as the copy writes: raw SQL)."""
    item = Item.objects.first()
    split = DatasetSplit.objects.first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO labels_annotation (id, created_at, updated_at, label_id, item_id, "
            "split_id, coordinates, user_id) VALUES (%s, now(), now(), %s, %s, %s, '', %s)",
            [uuid.uuid4(), label_id, item.pk, split.pk, user_id],
        )


@postgres
@pytest.mark.parametrize("missing", ["label", "user"])
def test_a_missing_parent_fails_like_the_commit_would(world, user, missing):
    label = Label.objects.filter(version=world).first()
    label_id = uuid.uuid4() if missing == "label" else label.pk
    user_id = uuid.uuid4() if missing == "user" else user.pk
    with pytest.raises(IntegrityError, match=f"Annotation.{missing} refers to a missing"):
        with transaction.atomic():
            with SetBasedChecks(Annotation, created=[Label]) as checks:
                assert checks.active
                _orphan_annotation(label_id, user_id)
                checks.check(Annotation, "c.coordinates = %s", [""])


@postgres
@pytest.mark.django_db(transaction=True)  # the other connection must see the user
def test_a_parent_made_elsewhere_stays_locked_until_the_commit(world, user):
    """The per-row check locked each user FOR KEY SHARE until the commit; so does the set
    check: a concurrent FOR UPDATE of the user (what a delete takes) must wait."""
    outcome: dict = {}

    def other_transaction() -> None:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    f"SELECT 1 FROM {User._meta.db_table} WHERE id = %s FOR UPDATE NOWAIT",
                    [user.pk],
                )
                outcome["locked"] = False
                cursor.execute("ROLLBACK")
        except OperationalError:
            outcome["locked"] = True
        finally:
            other.close()

    with transaction.atomic():
        with SetBasedChecks(Item, created=[Version]) as checks:
            checks.check(Item, "c.dataset_version_id = %s", [world.pk])
        thread = threading.Thread(target=other_transaction)
        thread.start()
        thread.join(timeout=30)
    assert outcome == {"locked": True}


@postgres
def test_a_role_that_may_not_set_the_replication_role_keeps_the_per_row_checks(world):
    role = f"seeme_limited_{uuid.uuid4().hex[:8]}"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOSUPERUSER")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
        with SetBasedChecks(Item) as checks:
            assert not checks.active
        cursor.execute("RESET ROLE")
        cursor.execute(f"GRANT SET ON PARAMETER session_replication_role TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
        with SetBasedChecks(Item) as checks:
            assert checks.active
        transaction.set_rollback(True)


@postgres
def test_a_table_with_another_trigger_keeps_the_per_row_checks(world):
    """session_replication_role would skip any ordinary trigger, not only foreign keys'."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION seeme_t_noop() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER seeme_t_noop BEFORE INSERT ON labels_annotation "
            "FOR EACH ROW EXECUTE FUNCTION seeme_t_noop()"
        )
        with SetBasedChecks(Item) as checks:
            assert checks.active
        with SetBasedChecks(Item, Annotation) as checks:
            assert not checks.active
        transaction.set_rollback(True)


def test_on_sqlite_the_block_changes_nothing(world):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite side")
    with CaptureQueriesContext(connection) as queries:
        with SetBasedChecks(Item) as checks:
            checks.check(Item, "1 = 1", [])
    assert not checks.active
    assert _sql(queries) == []


def test_a_label_outside_the_version_fails_the_copy_whole(user, world):
    """Labels and splits are renamed by a map of the version's own (seeme.db.mapped_sql); a
    reference the map lacks becomes NULL, which the column refuses: no half copy."""
    stray = LabelFactory(version=VersionFactory(dataset=world.dataset, name="other"))
    Annotation.objects.filter(pk=Annotation.objects.filter(split__version=world).first().pk).update(
        label=stray
    )
    versions = Version.objects.count()
    with pytest.raises(IntegrityError):
        version_duplicate(version=world, user=user)
    assert Version.objects.count() == versions


@postgres
def test_a_python_error_in_the_block_turns_the_per_row_checks_back_on(world):
    with transaction.atomic(), connection.cursor() as cursor:
        with pytest.raises(ValueError), SetBasedChecks(Item) as checks:
            assert checks.active
            raise ValueError("not a database error: the transaction goes on")
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"


@postgres
def test_a_big_add_inferences_checks_each_key_once(user, version, splits):
    LabelFactory(version=version, name="cat")
    with CaptureQueriesContext(connection) as queries:
        label_services.add_inferences(
            split=splits["train"],
            user=user,
            inferences=[{"name": f"cat-{i}", "prediction": "cat"} for i in range(3)],
        )
    assert any(REPLICA in s for s in _sql(queries))
    assert Item.objects.filter(dataset_version=version).count() == 3
    assert_stats_exact()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@postgres
def test_a_small_block_keeps_the_per_row_checks(monkeypatch, world):
    monkeypatch.setattr(references, "MIN_ROWS", 500)
    with SetBasedChecks(Item, rows=499) as checks:
        assert not checks.active
    with SetBasedChecks(Item, rows=500) as checks:
        assert checks.active


@postgres
@pytest.mark.parametrize(
    ("model", "column"), [(Item, "user"), (ItemSplit, "item"), (Annotation, "label")]
)
def test_add_inferences_checks_reach_every_new_row(
    monkeypatch, user, version, splits, model, column
):
    """A bug that wrote a reference to nothing into the LAST row of a table (as if the checks'
    scope missed the end) must still fail the request, as the per-row checks would have."""
    LabelFactory(version=version, name="cat")
    real = inferences.insert_rows

    def corrupting(target, names, rows):
        if target is model:
            at = list(names).index(column)
            rows = [*rows[:-1], (*rows[-1][:at], uuid.uuid4(), *rows[-1][at + 1 :])]
        real(target, names, rows)

    monkeypatch.setattr(inferences, "insert_rows", corrupting)
    with pytest.raises(IntegrityError, match=f"{model.__name__}.{column} refers to a missing"):
        label_services.add_inferences(
            split=splits["train"],
            user=user,
            inferences=[{"name": f"cat-{i}", "prediction": "cat"} for i in range(5)],
        )
