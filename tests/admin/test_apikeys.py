"""API keys in the admin: the raw key is shown once and never stored; revoke; last use."""

import hashlib

from django.utils import timezone

from seeme import services
from seeme.models import APIKey
from tests.admin.conftest import admin_url, form_data


def test_creating_a_key_shows_it_once_and_stores_only_its_hash(manager, user):
    url = admin_url(APIKey, "add")
    data = form_data(manager.get(url))
    data.update(user=str(user.pk), name="ci runner", expires_in_days="30")
    response = manager.post(url, data, follow=True)
    shown = [str(m) for m in response.context["messages"] if "The new API key is" in str(m)]
    assert len(shown) == 1
    raw = next(word for word in shown[0].split() if word.startswith("sm_"))
    key = APIKey.objects.get(name="ci runner")
    assert key.user == user
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {key.key_prefix, key.key_hash, key.name}
    assert 29 <= (key.expires_at - timezone.now()).days <= 30
    # The key works, and no later page shows it again.
    assert services.apikey_authenticate(raw_key=raw) == key
    again = manager.get(admin_url(APIKey, "change", key))
    assert raw not in again.content.decode()


def test_the_key_page_never_shows_the_hash_and_shows_the_last_use(manager, user):
    key, raw = services.apikey_create(user=user, name="laptop")
    services.apikey_authenticate(raw_key=raw)
    key.refresh_from_db()
    for url in (admin_url(APIKey, "change", key), admin_url(APIKey, "changelist")):
        page = manager.get(url).content.decode()
        assert key.key_hash not in page
        assert key.key_hash[:16] not in page
        assert raw not in page
    page = manager.get(admin_url(APIKey, "change", key))
    assert page.context["original"].last_used_at is not None
    assert "Last used at" in page.content.decode() or "last used at" in page.content.decode()
    # A key is viewed, not edited: no save button.
    assert not page.context["has_change_permission"]
    assert manager.post(admin_url(APIKey, "change", key), {"name": "x"}).status_code == 403


def test_revoking_keys_stops_them(manager, user):
    first, first_raw = services.apikey_create(user=user, name="one")
    second, second_raw = services.apikey_create(user=user, name="two")
    response = manager.post(
        admin_url(APIKey, "changelist"),
        {"action": "revoke_keys", "_selected_action": [str(first.pk), str(second.pk)]},
        follow=True,
    )
    assert "Revoked 2 API keys." in [str(m) for m in response.context["messages"]]
    assert services.apikey_authenticate(raw_key=first_raw) is None
    assert services.apikey_authenticate(raw_key=second_raw) is None
    statuses = manager.get(admin_url(APIKey, "changelist"), {"status": "revoked"})
    assert set(statuses.context["cl"].result_list) == {first, second}
