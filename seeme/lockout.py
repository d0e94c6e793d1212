"""Login throttling glue for django-axes: which address a request comes from, and what a
locked-out login is answered (429: JSON with ``Retry-After`` on the API, the sign-in page's
message on the pages). Settings: ``AXES_*`` in ``seeme/settings.py``, documented in the
README (``SEEME_LOGIN_FAILURE_LIMIT``, ``SEEME_LOGIN_COOLOFF_MINUTES``, ``SEEME_BEHIND_PROXY``).
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class AxesBackend(AxesStandaloneBackend):
    """django-axes' lock check, for logins that come with a request (all three HTTP logins
    pass theirs). ``authenticate()`` without a request (``Client.login`` in tests, a shell
    script) has no address to count and is not throttled, instead of failing outright."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind our own reverse proxy
    (``SEEME_BEHIND_PROXY``) the last ``X-Forwarded-For`` entry, the one the proxy added
    (earlier entries are whatever the client sent and cannot be trusted). None when there is
    no valid address (a request built in code): axes stores the address in an inet column,
    which refuses anything else on PostgreSQL."""
    candidates = [request.META.get("REMOTE_ADDR", "")]
    if settings.SEEME_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.insert(0, forwarded.split(",")[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_message() -> str:
    minutes = max(1, round(cooloff_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-in attempts for this account or from this address. "
        f"Try again in {minutes} {unit}."
    )


def lockout_json() -> JsonResponse:
    response = JsonResponse({"message": lockout_message()}, status=429)
    response["Retry-After"] = str(cooloff_seconds())
    return response


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the answer to a login attempt made while locked out."""
    if request.path.startswith("/api/"):
        return lockout_json()
    response: HttpResponse = render(
        request,
        "registration/locked_out.html",
        {"message": lockout_message(), "login_url": request.path},
        status=429,
    )
    response["Retry-After"] = str(cooloff_seconds())
    return response
