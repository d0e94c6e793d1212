"""The OpenAPI schema (drf-spectacular): the conventions every endpoint shares, in one place.

``SPECTACULAR_SETTINGS`` / ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]`` point here, so importing
this module also registers the extensions below. What it adds to drf-spectacular's defaults:

- every path parameter is a UUID string (the routes match ids loosely and answer 404 for a
  malformed one, but the contract is a UUID);
- every operation documents the JSON errors it can answer (``Error``: ``{message,
  errors?}``; ``PreconditionFailed`` for 412), derived from what the view does: 400 for a
  body or query parameters, 401/403 behind authentication, 404 with ids in the path;
- ``PUT`` is a partial update everywhere in this API, so its request body has no required
  field (``Patched...Request`` components);
- the paginated item list documents its ``X-Total-Count`` header;
- a resource (model serializer) answers every field, and its strings are never null;
- paths are written as the SDK calls them, without a trailing slash (both forms work).
"""

import copy

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    build_bearer_security_scheme_object,
    build_parameter_type,
    force_instance,
    is_list_serializer,
    is_serializer,
)
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: `message` says why, `errors` names the fields.",
    "401": "Authentication is required: a missing, wrong, expired or revoked API key.",
    "403": "Your role on this dataset does not allow this (or a session write without a "
    "CSRF token).",
    "404": "Not found, or not visible to you: malformed, unknown and foreign ids alike.",
    "409": "The name is already taken in this version.",
    "412": "If-Match: the item changed since it was read; `current_version` is its version now.",
}


class ErrorSerializer(serializers.Serializer):
    """Every API error: a sentence for a human and, where it helps, the fields at fault."""

    message = serializers.CharField()
    errors = serializers.DictField(
        required=False, help_text="Field name to a list of messages (nested for nested bodies)."
    )


class PreconditionFailedSerializer(serializers.Serializer):
    """The answer to an ``If-Match`` write that lost the race."""

    message = serializers.CharField()
    current_version = serializers.IntegerField(min_value=0)


class MessageSerializer(serializers.Serializer):
    """A plain confirmation."""

    message = serializers.CharField()


def _error_response(code: str, description: str | None = None) -> OpenApiResponse:
    body = PreconditionFailedSerializer if code == "412" else ErrorSerializer
    return OpenApiResponse(body, description=ERROR_DESCRIPTIONS.get(code, description or ""))


class SeemeAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the API-wide conventions listed in the module doc."""

    def _resolve_path_parameters(self, variables):
        return [
            build_parameter_type(
                name=variable,
                location=OpenApiParameter.PATH,
                schema={"type": "string", "format": "uuid"},
                description="A UUID; a malformed or unknown one answers 404.",
            )
            for variable in variables
        ]

    def _get_request_for_media_type(self, serializer, direction="request"):
        serializer = force_instance(serializer)
        if (
            self.method == "PUT"
            and is_serializer(serializer)
            and not is_list_serializer(serializer)
        ):
            # Every PUT of this API applies only the fields it is given.
            serializer = copy.copy(serializer)
            serializer.partial = True
        return super()._get_request_for_media_type(serializer, direction)

    def _get_serializer_field_meta(self, field, direction):
        from seeme.api.fields import StrictBooleanField, StrictCharField

        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and isinstance(field, StrictCharField | StrictBooleanField):
            # Optional strings and booleans accept null in a request (read as "" or the
            # default) but answer a value, never null.
            meta.pop("nullable", None)
        return meta

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and isinstance(serializer, serializers.ModelSerializer):
            # A resource always renders every field ("" and [] rather than null or absent).
            schema["required"] = sorted(schema.get("properties", {}))
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                # A view's bare ``OpenApiResponse(description=...)`` for an error code.
                responses[code] = self._get_response_for_code(
                    _error_response(code, response.get("description")), code
                )
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._get_response_for_code(_error_response(code), code)
        if "200" in responses and self._is_paginated_list():
            responses["200"].setdefault("headers", {})["X-Total-Count"] = {
                "schema": {"type": "integer", "minimum": 0},
                "required": True,
                "description": "How many items match the filters, over all pages.",
            }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _is_paginated_list(self) -> bool:
        from seeme.api.pagination import PageCountPagination

        return (
            self.method == "GET"
            and self._is_list_view()
            and isinstance(self._get_paginator(), PageCountPagination)
        )

    def _error_codes(self, operation: dict) -> list[str]:
        """The error statuses an operation can answer, from its parameters, body and auth."""
        from seeme.api.scoping import READ

        params = operation.get("parameters", [])
        security = operation.get("security", [])
        authenticated = bool(security) and {} not in security
        codes = []
        if "requestBody" in operation or any(p["in"] in ("query", "header") for p in params):
            codes.append("400")
        if authenticated:
            codes.append("401")
            action_rank = getattr(self.view, "action_ranks", {}).get(
                getattr(self.view, "action", None), READ
            )
            if self.method not in SAFE_METHODS or action_rank > READ:
                codes.append("403")
        if any(p["in"] == "path" for p in params):
            codes.append("404")
        return codes


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "seeme.api.authentication.APIKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer"
        )
        scheme["description"] = (
            "An API key from POST /login, POST /register or POST /me/apikeys: "
            "`Authorization: Bearer <key>`."
        )
        return scheme


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "seeme.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class StringIdFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "seeme.api.fields.StringIdField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "anyOf": [{"format": "uuid"}, {"maxLength": 0}],
            "readOnly": True,
            "description": 'A UUID, or "" when there is none.',
        }


def strip_trailing_slashes(result, generator, request, public):
    """Postprocessing hook: ``/api/v1/datasets/`` -> ``/api/v1/datasets``, as the SDK calls it."""
    result["paths"] = {
        (path.rstrip("/") or "/"): item for path, item in result.get("paths", {}).items()
    }
    return result
