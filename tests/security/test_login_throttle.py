"""Login throttling on all three logins: the API's POST /api/v1/login, the sign-in page and
the admin's. After AXES_FAILURE_LIMIT failures for a user or an address every attempt is
refused without checking the password (429; JSON with Retry-After on the API, a message on
the pages) until the cool-off has passed; then the real user gets back in."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from seeme.models import APIKey
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)


def api_login(username, password, ip="10.0.0.1"):
    return APIClient(REMOTE_ADDR=ip).post(
        reverse("login-api"), {"username": username, "password": password}, format="json"
    )


def page_login(url, username, password, ip="10.0.0.1"):
    return Client(REMOTE_ADDR=ip).post(url, {"username": username, "password": password})


def test_api_login_is_locked_after_the_limit_then_429_json_with_retry_after():
    user = UserFactory()
    for _ in range(LIMIT - 1):
        assert api_login(user.username, "wrong").status_code == 401
    # The failure that reaches the limit is answered with the lock already.
    assert api_login(user.username, "wrong").status_code == 429
    locked = api_login(user.username, PASSWORD)
    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("application/json")
    assert int(locked["Retry-After"]) == 15 * 60
    assert "too many" in locked.json()["message"].lower()
    assert not APIKey.objects.filter(user=user).exists()


def test_api_lock_is_per_user_from_any_address():
    user = UserFactory()
    for n in range(LIMIT):
        api_login(user.username, "wrong", ip=f"10.0.1.{n}")
    assert api_login(user.username, PASSWORD, ip="10.0.2.1").status_code == 429
    # Another user from a fresh address is not affected.
    other = UserFactory()
    assert api_login(other.username, PASSWORD, ip="10.0.3.1").status_code == 200


def test_api_lock_is_per_address_whatever_the_username():
    for n in range(LIMIT):
        api_login(f"nobody{n}", "wrong", ip="10.0.4.4")
    user = UserFactory()
    assert api_login(user.username, PASSWORD, ip="10.0.4.4").status_code == 429
    assert api_login(user.username, PASSWORD, ip="10.0.4.5").status_code == 200


def test_real_user_gets_back_in_after_the_cool_off(settings):
    user = UserFactory()
    for _ in range(LIMIT):
        api_login(user.username, "wrong")
    assert api_login(user.username, PASSWORD).status_code == 429
    # Failures are timestamped; moving them back past the cool-off ends the lock.
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert api_login(user.username, PASSWORD).status_code == 200


def test_successful_login_before_the_limit_resets_the_count():
    user = UserFactory()
    for _ in range(LIMIT - 1):
        api_login(user.username, "wrong")
    assert api_login(user.username, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        api_login(user.username, "wrong")
    assert api_login(user.username, PASSWORD).status_code == 200


@pytest.mark.parametrize("url_name", ["login", "admin:login"])
def test_pages_lock_with_a_clear_message(url_name):
    user = UserFactory(is_staff=True)
    url = reverse(url_name)
    for _ in range(LIMIT - 1):
        assert page_login(url, user.username, "wrong").status_code == 200  # form error
    assert page_login(url, user.username, "wrong").status_code == 429
    locked = page_login(url, user.username, PASSWORD)
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed sign-in attempts" in text
    assert "15 minutes" in text
    assert "_auth_user_id" not in locked.client.session


def test_page_and_api_failures_count_together():
    user = UserFactory()
    for _ in range(LIMIT):
        page_login(reverse("login"), user.username, "wrong")
    assert api_login(user.username, PASSWORD).status_code == 429


def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(settings):
    settings.SEEME_BEHIND_PROXY = True
    user = UserFactory()
    client = APIClient(REMOTE_ADDR="10.9.9.9")
    for n in range(LIMIT):
        # The client forges the first entry; the proxy appends the real address.
        client.post(
            reverse("login-api"),
            {"username": f"nobody{n}", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 192.0.2.7",
        )
    locked = client.post(
        reverse("login-api"),
        {"username": user.username, "password": PASSWORD},
        format="json",
        HTTP_X_FORWARDED_FOR="1.2.3.99, 192.0.2.7",
    )
    assert locked.status_code == 429
    elsewhere = client.post(
        reverse("login-api"),
        {"username": user.username, "password": PASSWORD},
        format="json",
        HTTP_X_FORWARDED_FOR="192.0.2.8",
    )
    assert elsewhere.status_code == 200


def test_authenticate_without_a_request_still_works():
    """Client.login (tests) and scripts call authenticate() without a request: not
    throttled (no address to count), and not an error either."""
    user = UserFactory()
    assert Client().login(username=user.username, password=PASSWORD)
    assert not Client().login(username=user.username, password="wrong")


def test_a_request_without_a_valid_address_is_still_answered(settings):
    """force_login (a request built in code) and a garbled forwarded address: no address is
    stored (an inet column on PostgreSQL refuses anything else), no 500."""
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert client.get(reverse("seeme:dataset-list")).status_code == 200
    settings.SEEME_BEHIND_PROXY = True
    response = APIClient(REMOTE_ADDR="10.1.1.1").post(
        reverse("login-api"),
        {"username": user.username, "password": "wrong"},
        format="json",
        HTTP_X_FORWARDED_FOR="not-an-address",
    )
    assert response.status_code == 401
