"""The admin site, and the plumbing every app's ``admin.py`` shares.

Dataset managers run the service from the admin, so it keeps the rules the API keeps:

- every write goes through a service: ``ServiceAdmin`` routes saves, deletes, bulk deletes and
  inline formsets to ``*_via_service`` hooks (never ``save()`` or an ORM delete), so the
  statistics stay exact and writers take their locks in the usual order;
- a ``ServiceError`` becomes a form error (the form comes back with the input and the
  service's sentence) or an admin message, never a 500; the failed attempt is rolled back
  whole, since the admin's view (or ours, for changelist actions) is one transaction;
- delete confirmations count what goes instead of listing every row (a dataset may hold
  millions of items);
- autocomplete answers say where a row lives ("dataset / v1 / train"), not just its name.

Admin modules sit at the top of the stack, like the API views: they may import the
services and admin classes of every app. Models and services keep the one-way dependencies.
"""

from seeme.admin_site.counts import (
    COUNT_LIMIT,
    BoundedCountAdminMixin,
    BoundedCountPaginator,
)
from seeme.admin_site.filters import (
    DatasetFilter,
    DrillDownFilter,
    VersionFilter,
    dataset_filter,
    parse_uuid,
    version_filter,
    version_scoped_filter,
    version_scoped_lookups,
)
from seeme.admin_site.keyset import KeysetAdminMixin, KeysetChangeList
from seeme.admin_site.services import (
    ServiceAdmin,
    ServiceAdminMixin,
    ServiceInline,
    adopt,
    changed_values,
    retry_on_deadlock,
)
from seeme.admin_site.site import (
    SeemeAdminSite,
    SeemeAutocompleteJsonView,
)

__all__ = [
    "COUNT_LIMIT",
    "BoundedCountAdminMixin",
    "BoundedCountPaginator",
    "DatasetFilter",
    "DrillDownFilter",
    "KeysetAdminMixin",
    "KeysetChangeList",
    "SeemeAdminSite",
    "SeemeAutocompleteJsonView",
    "ServiceAdmin",
    "ServiceAdminMixin",
    "ServiceInline",
    "VersionFilter",
    "_add_service_error",
    "adopt",
    "changed_values",
    "dataset_filter",
    "log",
    "parse_uuid",
    "retry_on_deadlock",
    "version_filter",
    "version_scoped_filter",
    "version_scoped_lookups",
]
