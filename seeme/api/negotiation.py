"""Content negotiation that reads a body without Content-Type as JSON (the SeeMe SDK sends
none)."""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser


class JSONByDefaultNegotiation(DefaultContentNegotiation):
    def select_parser(self, request, parsers):
        if not request.content_type:
            return next((p for p in parsers if isinstance(p, JSONParser)), JSONParser())
        return super().select_parser(request, parsers)
