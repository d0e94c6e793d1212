"""Accounts and API keys: /login, /logout, /register, /me/apikeys, /applications, and the
create_api_key / createsuperuser commands."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from seeme import services
from seeme.models import APIKey
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

User = get_user_model()

USER_FIELDS = {"id", "username", "name", "email", "firstname", "apikey"}
KEY_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "name",
    "key_prefix",
    "key",
    "expires_at",
    "last_used_at",
}


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def can_list_datasets(client: APIClient) -> bool:
    return client.get(reverse("dataset-list")).status_code == 200


# -- login / logout --------------------------------------------------------------------------


def test_login_returns_user_with_a_working_new_key(anon, user):
    keys_before = APIKey.objects.filter(user=user).count()
    response = anon.post(
        reverse("login-api"), {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == USER_FIELDS
    assert all(isinstance(v, str) for v in body.values()), body
    assert body["id"] == str(user.pk)
    assert body["username"] == user.username
    assert body["firstname"] == "Ada" and body["name"] == "Lovelace"
    assert APIKey.objects.filter(user=user).count() == keys_before + 1
    assert can_list_datasets(bearer(body["apikey"]))


def test_login_strings_are_never_null(anon, db):
    bare = User.objects.create_user(username="bare", password=PASSWORD)  # no email, no names
    body = anon.post(
        reverse("login-api"), {"username": "bare", "password": PASSWORD}, format="json"
    ).json()
    assert body["email"] == "" and body["firstname"] == "" and body["name"] == ""
    assert bare.api_keys.count() == 1


@pytest.mark.parametrize(
    "creds",
    [
        {"username": "nobody", "password": PASSWORD},
        {"username": "USER", "password": "wrong password"},
    ],
)
def test_login_with_wrong_credentials_is_401_json(anon, user, creds):
    creds = {**creds, "username": creds["username"].replace("USER", user.username)}
    response = anon.post(reverse("login-api"), creds, format="json")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "password" in response.json()["message"].lower()
    assert not APIKey.objects.exists()


def test_login_without_password_is_400(anon, user):
    response = anon.post(reverse("login-api"), {"username": user.username}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_logout_revokes_only_the_key_used(user):
    _, used = services.apikey_create(user=user)
    _, other = services.apikey_create(user=user)
    response = bearer(used).post(reverse("logout-api"))
    assert response.status_code == 200
    assert "message" in response.json()
    assert bearer(used).get(reverse("dataset-list")).status_code == 401
    assert can_list_datasets(bearer(other))


def test_logout_needs_auth(anon):
    assert anon.post(reverse("logout-api")).status_code == 401


# -- register --------------------------------------------------------------------------------

REGISTRATION = {
    "username": "grace",
    "email": "grace@example.com",
    "password": "a-long-enough-passphrase",
    "firstname": "Grace",
    "name": "Hopper",
}


def test_register_creates_the_user_with_a_key(anon, db):
    response = anon.post(reverse("register-api"), REGISTRATION, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_FIELDS
    assert all(isinstance(v, str) for v in body.values())
    user = User.objects.get(username="grace")
    assert body["id"] == str(user.pk)
    assert (user.email, user.first_name, user.last_name) == ("grace@example.com", "Grace", "Hopper")
    assert user.check_password(REGISTRATION["password"])
    assert can_list_datasets(bearer(body["apikey"]))


def test_register_closed_by_setting_is_403_json(anon, db, settings):
    settings.SEEME_OPEN_REGISTRATION = False
    response = anon.post(reverse("register-api"), REGISTRATION, format="json")
    assert response.status_code == 403
    assert "closed" in response.json()["message"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "taken"}, "username"),
        ({"username": "TAKEN"}, "username"),
        ({"email": "taken@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": "12345678901"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"username": "has space"}, "username"),
        ({"username": ""}, "username"),
    ],
)
def test_register_refusals_are_400_with_message(anon, db, change, field):
    UserFactory(username="taken", email="taken@example.com")
    response = anon.post(reverse("register-api"), {**REGISTRATION, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"]
    assert field in body["errors"]
    assert User.objects.count() == 1


# -- API keys --------------------------------------------------------------------------------


def test_apikey_create_shows_the_key_once_and_stores_only_a_hash(api, user):
    response = api.post(reverse("apikey-list"), {"name": "ci", "expires_in_days": 7}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == KEY_FIELDS
    raw = body["key"]
    assert raw.startswith(body["key_prefix"]) and len(raw) > 30
    assert body["name"] == "ci"
    assert body["expires_at"] and body["last_used_at"] is None
    row = APIKey.objects.get(pk=body["id"])
    stored = [str(getattr(row, f.attname)) for f in APIKey._meta.concrete_fields]
    assert not any(raw in value for value in stored)
    assert row.key_hash != raw
    assert can_list_datasets(bearer(raw))

    listed = api.get(reverse("apikey-list")).json()
    mine = next(k for k in listed if k["id"] == body["id"])
    assert set(mine) == KEY_FIELDS
    assert mine["key"] == ""
    assert raw not in str(listed)


def test_apikey_list_shows_only_own_live_keys(api, user, other_user):
    services.apikey_create(user=other_user, name="theirs")
    revoked, _ = services.apikey_create(user=user, name="old")
    services.apikey_revoke(key=revoked)
    names = [k["name"] for k in api.get(reverse("apikey-list")).json()]
    assert names == ["test"]  # the conftest key the client uses


def test_apikey_delete_revokes(api, user):
    key, raw = services.apikey_create(user=user, name="temp")
    response = api.delete(reverse("apikey-detail", kwargs={"pk": key.pk}))
    assert response.status_code == 204
    assert bearer(raw).get(reverse("dataset-list")).status_code == 401
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_apikey_of_another_user_cannot_be_deleted(api, other_user):
    key, raw = services.apikey_create(user=other_user)
    response = api.delete(reverse("apikey-detail", kwargs={"pk": key.pk}))
    assert response.status_code == 404
    assert can_list_datasets(bearer(raw))


def test_expired_key_is_401(user):
    key, raw = services.apikey_create(user=user, expires_in_days=1)
    assert can_list_datasets(bearer(raw))
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(raw).get(reverse("dataset-list"))
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_key_of_inactive_user_is_401(user):
    client = client_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(reverse("dataset-list")).status_code == 401


def test_applications_is_an_empty_list(api):
    response = api.get(reverse("applications"))
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer nope",
        "Bearer sm_not-a-real-key",
        "Bearer a b",
        "Token abc",
        "Basic dXNlcjpwYXNz",
    ],
)
@pytest.mark.parametrize("url_name", ["dataset-list", "applications", "apikey-list"])
def test_missing_or_wrong_bearer_is_401_json(db, header, url_name):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(reverse(url_name))
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


# -- management commands ---------------------------------------------------------------------


def test_create_api_key_command_prints_a_working_key(user):
    out = io.StringIO()
    call_command("create_api_key", user.username, stdout=out)
    raw = out.getvalue().strip()
    assert raw.startswith(services.KEY_PREFIX)
    assert can_list_datasets(bearer(raw))
    assert APIKey.objects.get(user=user).name == "cli"


def test_create_api_key_command_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_key", "nobody", stdout=io.StringIO())
    assert not APIKey.objects.exists()


def test_createsuperuser_noinput_works_with_the_custom_user(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-passphrase")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    call_command("createsuperuser", interactive=False, stdout=io.StringIO())
    admin = User.objects.get(username="root")
    assert admin.is_superuser and admin.is_staff
    assert admin.email == "root@example.com"
    assert admin.check_password("a-long-enough-passphrase")
    body = (
        APIClient()
        .post(
            reverse("login-api"),
            {"username": "root", "password": "a-long-enough-passphrase"},
            format="json",
        )
        .json()
    )
    assert can_list_datasets(bearer(body["apikey"]))
