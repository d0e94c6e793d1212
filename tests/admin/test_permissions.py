"""Only staff enter the admin, and Django's model permissions hold."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from labels.models import Annotation, Label, LabelStat
from seeme.models import Dataset, Item
from tests.admin.conftest import admin_url, form_data
from tests.conftest import assert_stats_exact
from tests.factories import UserFactory


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "not staff"])
def test_only_staff_enter(world, user, logged_in):
    client = client_of(user) if logged_in else Client()
    for url in ("/admin/", admin_url(Dataset, "changelist"), admin_url(Item, "change", world.one)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_view_permission_lets_staff_look_but_not_touch(world):
    client = client_of(staff_with("view_dataset", "view_label", "view_labelstat"))
    assert client.get(admin_url(Dataset, "changelist")).status_code == 200
    page = client.get(admin_url(Label, "change", world.cat))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "Save" not in page.content.decode()

    data = {"name": "kitty", "color": "#000000", "version": str(world.version.pk)}
    assert client.post(admin_url(Label, "change", world.cat), data).status_code == 403
    assert client.post(admin_url(Label, "delete", world.cat), {"post": "yes"}).status_code == 403
    assert client.post(admin_url(Label, "add"), data).status_code == 403
    bulk = client.post(
        admin_url(Label, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(world.cat.pk)],
            "post": "yes",
        },
    )
    assert bulk.status_code in (200, 302)
    world.cat.refresh_from_db()
    assert world.cat.name == "cat"
    # Models without any permission stay closed.
    assert client.get(admin_url(Annotation, "changelist")).status_code == 403
    assert client.get(admin_url(Item, "change", world.one)).status_code == 403


def test_without_statistics_rights_staff_cannot_reconcile(world):
    client = client_of(staff_with("view_dataset", "change_dataset", "view_labelstat"))
    for model in (Dataset, LabelStat):
        page = client.get(admin_url(model, "changelist"))
        assert page.status_code == 200
        actions = page.context["action_form"]
        choices = [name for name, _ in actions.fields["action"].choices] if actions else []
        assert "reconcile_statistics" not in choices
    reconcile = client.post(
        admin_url(Dataset, "changelist"),
        {
            "action": "reconcile_statistics",
            "_selected_action": [str(world.dataset.pk)],
        },
    )
    assert reconcile.status_code in (200, 302)
    assert not [m for m in reconcile.wsgi_request._messages if "statistics" in str(m)]


def test_statistics_rows_cannot_be_added_changed_or_deleted_even_by_a_superuser(manager, world):
    row = LabelStat.objects.filter(split=world.train, label=world.cat).get()
    assert manager.get(admin_url(LabelStat, "add")).status_code == 403
    page = manager.get(admin_url(LabelStat, "change", row))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert manager.post(admin_url(LabelStat, "change", row), {"count": "99"}).status_code == 403
    assert manager.post(admin_url(LabelStat, "delete", row), {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.item_count == 1
    assert_stats_exact()


def test_an_inline_follows_its_own_model_permissions(world):
    """Changing an item without the right to add annotations: the inline is read-only."""
    user = staff_with("view_item", "change_item", "view_annotation", "view_itemsplit")
    client = client_of(user)
    url = admin_url(Item, "change", world.one)
    page = client.get(url)
    assert page.status_code == 200
    inlines = {f.formset.prefix: f for f in page.context["inline_admin_formsets"]}
    assert not inlines["annotations"].has_add_permission
    assert not inlines["annotations"].has_delete_permission
    data = form_data(page)
    data["description"] = "seen by a helper"
    assert client.post(url, data).status_code == 302
    world.one.refresh_from_db()
    assert world.one.description == "seen by a helper"
    assert Annotation.objects.count() == 1
