"""Template filters of the labelling pages."""

from django import template
from django.http import QueryDict

register = template.Library()


@register.filter
def query_pairs(query: str) -> list[tuple[str, str]]:
    """``"a=1&b=2"`` -> ``[("a", "1"), ("b", "2")]``: a query string as hidden form fields."""
    return [(key, value) for key, values in QueryDict(query).lists() for value in values]
