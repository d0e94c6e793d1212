"""Template filters of the labelling pages."""

import uuid

from django import template
from django.http import QueryDict

register = template.Library()


@register.filter
def query_pairs(query: str) -> list[tuple[str, str]]:
    """``"a=1&b=2"`` -> ``[("a", "1"), ("b", "2")]``: a query string as hidden form fields."""
    return [(key, value) for key, values in QueryDict(query).lists() for value in values]


@register.simple_tag
def one_time_token() -> str:
    """A fresh token for a form that starts a job (its ``job_token``: sent twice, one job)."""
    return uuid.uuid4().hex
