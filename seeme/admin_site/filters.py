"""List filters on the dataset -> version -> split / label hierarchy."""

import uuid

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from seeme.models import Dataset, Version

# -- list filters on the dataset → version → split / label hierarchy ----------------------------


def parse_uuid(value) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


class DrillDownFilter(admin.SimpleListFilter):
    """One level of the hierarchy: filters ``path`` (an ORM path to the level's id).

    Choosing a value drops the choices of the levels below (``children``), which list only
    the rows under the chosen parent. A malformed id is the admin's "bad filter" answer.
    """

    path = ""
    children: tuple[str, ...] = ()

    def has_output(self):
        # The admin drops filters without output, and their filtering with them: a level
        # chosen without its parent (a bookmarked URL) must still filter.
        return self.value() is not None or super().has_output()

    def chosen_id(self) -> uuid.UUID:
        """The chosen level's id; a malformed one is the admin's "bad filter" answer."""
        pk = parse_uuid(self.value())
        if pk is None:
            raise IncorrectLookupParameters(f"{self.parameter_name} must be an id")
        return pk

    def queryset(self, request, queryset):
        if self.value() is None:
            return None
        return queryset.filter(**{self.path: self.chosen_id()})

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(
                remove=[self.parameter_name, *self.children]
            ),
            "display": "All",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}, self.children
                ),
                "display": title,
            }


class DatasetFilter(DrillDownFilter):
    title = "dataset"
    parameter_name = "dataset"
    children = ("version", "split", "label")

    def lookups(self, request, model_admin):
        return list(Dataset.objects.order_by("name", "id").values_list("id", "name"))


class VersionFilter(DrillDownFilter):
    """Lists the versions of the chosen dataset (none before a dataset is chosen)."""

    title = "version"
    parameter_name = "version"
    children = ("split", "label")

    def lookups(self, request, model_admin):
        dataset_id = parse_uuid(request.GET.get("dataset"))
        if dataset_id is None:
            return []
        return list(
            Version.objects.filter(dataset_id=dataset_id)
            .order_by("created_at", "id")
            .values_list("id", "name")
        )


def dataset_filter(path: str) -> type[DrillDownFilter]:
    """A dataset filter for a model reaching its dataset's id at ``path``."""
    return type("DatasetFilter", (DatasetFilter,), {"path": path})


def version_filter(path: str) -> type[DrillDownFilter]:
    """A version filter for a model reaching its version's id at ``path``."""
    return type("VersionFilter", (VersionFilter,), {"path": path})


def version_scoped_lookups(model, request) -> list[tuple]:
    """Choices for a split or label filter: the rows of the chosen version, else of the
    chosen dataset's versions (named "v1 / train"), else none."""
    version_id = parse_uuid(request.GET.get("version"))
    if version_id is not None:
        return list(
            model._default_manager.filter(version_id=version_id)
            .order_by("name", "id")
            .values_list("id", "name")
        )
    dataset_id = parse_uuid(request.GET.get("dataset"))
    if dataset_id is None:
        return []
    rows = (
        model._default_manager.filter(version__dataset_id=dataset_id)
        .order_by("version__created_at", "name", "id")
        .values_list("id", "version__name", "name")
    )
    return [(pk, f"{version} / {name}") for pk, version, name in rows]


def version_scoped_filter(model, name: str, path: str) -> type[DrillDownFilter]:
    """A filter on the splits or labels (``model``) of the chosen version (or dataset), named
    ``name``, for a model reaching that row's id at ``path``."""
    return type(
        f"{model.__name__}Filter",
        (DrillDownFilter,),
        {
            "title": name,
            "parameter_name": name,
            "path": path,
            "lookups": lambda self, request, model_admin: version_scoped_lookups(model, request),
        },
    )
