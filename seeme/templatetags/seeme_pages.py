"""Small formatting filters of the web pages."""

from django import template

from labels.charts import safe_color

register = template.Library()


@register.filter
def thousands(value) -> str:
    """1234567 -> "1,234,567"."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""


@register.filter
def percent(value, digits: int = 1) -> str:
    """48.25 -> "48.3%"; None (a share of nothing) -> an em dash."""
    if value is None:
        return "—"
    return f"{float(value):.{int(digits)}f}%"


@register.filter
def bar_width(value) -> str:
    """A share in % as a CSS width, at least a hairline when it is not zero."""
    if not value:
        return "0%"
    return f"{max(float(value), 0.6):.2f}%"


@register.filter
def label_color(value) -> str:
    """A label's colour if it is #rrggbb, else a neutral grey (it goes into style attributes)."""
    return safe_color(value)
