"""Refuse NUL characters and lone surrogates in the address (path and query string) before
any view reads it: a 400, JSON under /api/, a page elsewhere (``/?q=a%00b`` used to reach the
database and fail there with a 500). Bodies are checked by ``seeme.api.parsers`` (JSON) and
by Django's form fields (pages)."""

from django.http import JsonResponse
from django.shortcuts import render

from seeme.textsafety import REFUSED_TEXT, has_refused_character


def _refused_part(request) -> str | None:
    if has_refused_character(request.path):
        return "The address"
    for key, values in request.GET.lists():
        if has_refused_character(key) or any(has_refused_character(v) for v in values):
            return "A query parameter"
    return None


class RefuseBadCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        part = _refused_part(request)
        if part is None:
            return self.get_response(request)
        message = f"{part} holds {REFUSED_TEXT}, which this server does not accept."
        if request.path.startswith("/api/"):
            return JsonResponse({"message": message}, status=400)
        return render(request, "400.html", {"message": message}, status=400)
