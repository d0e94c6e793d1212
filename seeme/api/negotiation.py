"""Content negotiation that reads bodies as JSON unless they say they are something else.

The SeeMe SDK sends no Content-Type; Django's development server then reports
``text/plain``; ``curl -d '{...}'`` without ``-H`` says form-urlencoded; clients that send
raw bytes say ``application/octet-stream``. All of these are JSON here. Anything else
(multipart uploads, XML) is a 415."""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser

from seeme.api.parsers import SafeJSONParser

JSON_BY_DEFAULT = {
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
}


class JSONByDefaultNegotiation(DefaultContentNegotiation):
    def select_parser(self, request, parsers):
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        if media_type in JSON_BY_DEFAULT:
            return next((p for p in parsers if isinstance(p, JSONParser)), SafeJSONParser())
        return super().select_parser(request, parsers)
