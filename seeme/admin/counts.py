"""Row counts for admin change lists, as scalar subqueries (one query per page)."""

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_of(model, fk: str) -> Coalesce:
    """How many ``model`` rows point at the outer row through ``fk`` (0 when none)."""
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def thousands(value) -> str:
    """An admin column's count with thousands separators ("" for none), like the pages."""
    return "" if value is None else f"{value:,}"
