"""Every API error is JSON: ``{"message": "<sentence>", "errors": {field: [..]}}``."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from seeme.api.parsers import BodyRefused
from seeme.exceptions import FileRefused, PreconditionFailed, ServiceError

log = logging.getLogger(__name__)

DEFAULT_MESSAGES = {
    400: "The request is not valid.",
    401: "Authentication is required: send 'Authorization: Bearer <api key>'.",
    403: "You are not allowed to do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    406: "This server only answers JSON.",
    409: "This conflicts with an existing resource.",
    415: "Send the body as JSON.",
    429: "Too many requests.",
    503: "The service is unavailable; try again.",
}


def _first_message(errors) -> str | None:
    if isinstance(errors, dict):
        for field, value in errors.items():
            msg = _first_message(value)
            if msg:
                return msg if field in ("non_field_errors", "detail") else f"{field}: {msg}"
    elif isinstance(errors, list):
        for value in errors:
            msg = _first_message(value)
            if msg:
                return msg
    elif errors:
        return str(errors)
    return None


def error_body(message: str, errors=None) -> dict:
    body = {"message": message}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc, context):
    """Map DRF, Django and service errors to the API's JSON error shape."""
    if isinstance(exc, PreconditionFailed):
        body = error_body(exc.message)
        body["current_version"] = exc.current_version
        return Response(body, status=exc.status)
    if isinstance(exc, FileRefused):
        body = error_body(exc.message, exc.errors)
        body["reason"] = exc.reason
        return Response(body, status=exc.status)
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.message, exc.errors), status=exc.status)
    if isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError):
        # The connection died or the database is away: the write's transaction did not
        # commit, so nothing was saved and the same request may simply be sent again (the
        # next request gets a checked, fresh connection: CONN_HEALTH_CHECKS).
        log.warning("database unavailable: %s", exc)
        return Response(
            error_body("The database connection failed; nothing was saved. Try again."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _first_message(errors) or DEFAULT_MESSAGES[400]
        response.data = error_body(message, errors)
    elif isinstance(exc, BodyRefused):
        response.data = error_body(str(exc.detail), exc.errors)
    elif isinstance(exc, exceptions.ParseError):
        request = context.get("request")
        if "multipart" in (getattr(request, "content_type", "") or ""):
            response.data = error_body(f"The multipart body could not be read: {exc.detail}")
        else:
            response.data = error_body(f"The body is not valid JSON: {exc.detail}")
    else:
        detail = getattr(exc, "detail", None)
        message = str(detail) if isinstance(detail, str) and detail else None
        response.data = error_body(message or DEFAULT_MESSAGES.get(code, "Request failed."))
    return response


def _json_error(code: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(message), status=code)


def api_not_found(request, exception=None):
    return _json_error(status.HTTP_404_NOT_FOUND, "Not found.")


def api_bad_request(request, exception=None):
    """A request Django refused before any view ran (e.g. a body over the size limit)."""
    if isinstance(exception, RequestDataTooBig):
        message = "The request body is larger than this server accepts (SEEME_MAX_BODY_MB)."
    else:
        message = "The request was refused as malformed."
    return _json_error(status.HTTP_400_BAD_REQUEST, message)


def api_server_error(request):
    return _json_error(500, "The server failed to answer; the error has been logged.")
