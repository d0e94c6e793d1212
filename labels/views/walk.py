"""Walking the item browser's filtered, sorted list from one item: previous, next and next
unlabelled. The item page carries the browser's query (filters, sort, page) so it can."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.urls import reverse

from labels.filtersets import ItemFilterSet
from labels.models import Annotation
from seeme.models import Item, Version

# The filters (the first five), the sort and where the page is (labels.views.paging).
FILTER_PARAMS = (
    "splitId",
    "labelId",
    "onlyUnlabelled",
    "name",
    "state",
    "sort",
    "page",
    "after",
    "before",
)
# sort parameter -> (field, descending); ties are broken by id in the same direction
SORTS = {
    "created": ("created_at", False),
    "-created": ("created_at", True),
    "name": ("name", False),
    "-name": ("name", True),
}
DEFAULT_SORT = "created"


def browser_query(params: QueryDict) -> str:
    """The item browser's own query parameters out of ``params``, to link back to it."""
    kept = QueryDict(mutable=True)
    for key in FILTER_PARAMS:
        for value in params.getlist(key):
            if value != "":
                kept.appendlist(key, value)
    return kept.urlencode()


def sort_of(params: QueryDict) -> str:
    value = params.get("sort") or DEFAULT_SORT
    return value if value in SORTS else DEFAULT_SORT


def ordering(sort: str) -> list[str]:
    field, desc = SORTS[sort]
    return [f"-{field}", "-id"] if desc else [field, "id"]


def filtered_items(version: Version, params: QueryDict) -> tuple[QuerySet[Item], ItemFilterSet]:
    """The version's items as the browser filters them (all of them when the filters are not
    valid), in the browser's order."""
    base = Item.objects.filter(dataset_version=version)
    filterset = ItemFilterSet(params, queryset=base, version_id=version.pk)
    items = filterset.qs if filterset.is_valid() else base
    return items.order_by(*ordering(sort_of(params))), filterset


def _beyond(items: QuerySet[Item], item: Item, sort: str, forward: bool) -> QuerySet[Item]:
    field, desc = SORTS[sort]
    value = getattr(item, field)
    later = forward != desc  # ascending walk forward, or descending walk backward
    op = "gt" if later else "lt"
    # A range on the sort field (an index condition) and a tie-break on the id: the same
    # rows as "field beyond, or equal with the id beyond", which PostgreSQL answered by
    # reading the list from its start (labels.views.paging.beyond does the same).
    after = items.filter(
        Q(**{f"{field}__{op}e": value}),
        Q(**{f"{field}__{op}": value}) | Q(**{f"id__{op}": item.pk}),
    )
    if forward:
        return after
    return after.order_by(*[o[1:] if o.startswith("-") else f"-{o}" for o in ordering(sort)])


def neighbour(
    version: Version, item: Item, query: str, *, forward: bool = True, unlabelled_only=False
) -> Item | None:
    """The item after (or before) ``item`` in the browser list of ``query``; with
    ``unlabelled_only`` the next one without annotations (in the filtered split, if any)."""
    params = QueryDict(query)
    items, filterset = filtered_items(version, params)
    if unlabelled_only:
        annotations = Annotation.objects.filter(item=OuterRef("pk"))
        split_id = filterset.form.cleaned_data.get("splitId") if filterset.is_valid() else None
        if split_id:
            annotations = annotations.filter(split_id=split_id)
        items = items.filter(~Exists(annotations))
    return _beyond(items, item, sort_of(params), forward).only("id", "name").first()


def item_url(version: Version, item_id, query: str) -> str:
    """The item page, keeping the browser query (without where its page was)."""
    params = QueryDict(query, mutable=True)
    for key in ("page", "after", "before"):
        params.pop(key, None)
    url = reverse(
        "seeme:item-detail",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "item_id": item_id},
    )
    rest = params.urlencode()
    return f"{url}?{rest}" if rest else url


def next_item_url(version: Version, item: Item, query: str, *, unlabelled_only=False):
    """The URL of the next (unlabelled) item of the list, None at its end."""
    found = neighbour(version, item, query, unlabelled_only=unlabelled_only)
    return None if found is None else item_url(version, found.pk, query)
