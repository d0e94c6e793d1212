"""Passwords: blank-only and overlong ones are refused wherever a password is set. Keys made
by /login (and /register) expire after SEEME_LOGIN_KEY_DAYS; named keys keep their own
expiry; expired keys are pruned (on login for that user, and by `manage.py prune_api_keys`)."""

import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from seeme import services
from seeme.models import APIKey
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def register(password: str):
    return APIClient().post(
        reverse("register-api"),
        {"username": "newbie", "email": "n@example.com", "password": password},
        format="json",
    )


@pytest.mark.parametrize(
    "password", [" " * 8, " " * 40, "\t" * 12, "a" + " " * 12, "ab  cd \n ef  "], ids=repr
)
def test_blank_or_nearly_blank_passwords_are_refused(password):
    response = register(password)
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    with pytest.raises(ValidationError):
        validate_password(password)


def test_overlong_passwords_are_refused():
    response = register("long-passphrase-" * 20)  # 320 characters
    assert response.status_code == 400
    assert "at most 256" in " ".join(response.json()["errors"]["password"])


@pytest.mark.parametrize("password", ["correct horse battery staple", "x7#Kq9!vLm2p"])
def test_good_passwords_pass(password):
    assert register(password).status_code == 201


def test_admin_password_change_uses_the_validators():
    user = UserFactory()
    with pytest.raises(ValidationError):
        validate_password(" " * 10, user=user)


def login(user):
    response = APIClient().post(
        reverse("login-api"), {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return response.json()["apikey"]


def works(raw: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get(reverse("dataset-list")).status_code == 200


def test_login_keys_expire_after_the_setting(settings):
    settings.SEEME_LOGIN_KEY_DAYS = 7
    user = UserFactory()
    raw = login(user)
    key = APIKey.objects.get(user=user, name="login")
    expected = timezone.now() + datetime.timedelta(days=7)
    assert abs((key.expires_at - expected).total_seconds()) < 60
    assert works(raw)
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    assert not works(raw)


def test_register_keys_expire_too(settings):
    settings.SEEME_LOGIN_KEY_DAYS = 3
    assert register("correct horse battery staple").status_code == 201
    key = APIKey.objects.get(name="register")
    assert key.expires_at is not None


def test_named_keys_keep_their_own_expiry(settings):
    settings.SEEME_LOGIN_KEY_DAYS = 1
    user = UserFactory()
    forever, _ = services.apikey_create(user=user, name="ci")
    month, _ = services.apikey_create(user=user, name="month", expires_in_days=30)
    login(user)
    forever.refresh_from_db()
    month.refresh_from_db()
    assert forever.expires_at is None
    assert (month.expires_at - timezone.now()).days >= 29


def test_login_prunes_the_users_expired_keys_only():
    user, other = UserFactory(), UserFactory()
    past = timezone.now() - datetime.timedelta(seconds=1)
    for owner in (user, other):
        for _ in range(3):
            key, _ = services.apikey_create(user=owner, name="login")
            APIKey.objects.filter(pk=key.pk).update(expires_at=past)
    kept, _ = services.apikey_create(user=user, name="ci")
    login(user)
    assert set(APIKey.objects.filter(user=user).values_list("name", flat=True)) == {"ci", "login"}
    assert APIKey.objects.filter(user=user).count() == 2 and kept.pk
    assert APIKey.objects.filter(user=other).count() == 3


def test_prune_command_deletes_every_expired_key():
    user = UserFactory()
    past = timezone.now() - datetime.timedelta(seconds=1)
    for n in range(4):
        key, _ = services.apikey_create(user=user, name=f"k{n}")
        if n % 2:
            APIKey.objects.filter(pk=key.pk).update(expires_at=past)
    call_command("prune_api_keys", verbosity=0)
    assert sorted(APIKey.objects.values_list("name", flat=True)) == ["k0", "k2"]
