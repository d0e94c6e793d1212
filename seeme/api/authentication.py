"""API authentication: ``Authorization: Bearer <api key>``, plus the browser session."""

from rest_framework import authentication, exceptions

from seeme.services import apikey_authenticate


class APIKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates ``Authorization: Bearer <key>`` against hashed API keys."""

    keyword = "bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <key>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from exc
        # A view may check the key in the query of its own read (one round trip instead of
        # two): the label statistics reads do (labels.api.views.LabelStatViewSet).
        view = (request.parser_context or {}).get("view")
        read = getattr(view, "authenticate_key_with_read", None)
        key = read(raw) if read is not None else apikey_authenticate(raw_key=raw)
        if key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid, expired or revoked.")
        return key.user, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser session (the web pages' own calls); CSRF-checked like any session write."""
