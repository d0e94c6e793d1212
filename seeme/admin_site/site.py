"""The seeme admin site: the default ``admin.site`` (see ``seeme.admin_config``)."""

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView

# -- the site ----------------------------------------------------------------------------------


class SeemeAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete whose answers use the target admin's ``autocomplete_text(obj)``."""

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        text = getattr(self.model_admin, "autocomplete_text", None)
        if text is not None:
            result["text"] = text(obj)
        return result


class SeemeAdminSite(admin.AdminSite):
    """The default admin site (see ``seeme.apps.SeemeAdminConfig``)."""

    site_header = "seeme administration"
    site_title = "seeme admin"
    index_title = "Datasets, splits, labels and statistics"

    def autocomplete_view(self, request):
        return SeemeAutocompleteJsonView.as_view(admin_site=self)(request)
