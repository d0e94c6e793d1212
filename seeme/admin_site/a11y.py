"""Names for the inputs of tabular inlines: Django renders them in table cells without a
<label>, which axe-core reports as critical (``label``, ``select-name``). Every field of
every inline row gets an ``aria-label`` made of its column name and the row number."""


class LabelledInlineMixin:
    """Mixin for ``admin.TabularInline`` subclasses (before it in the bases)."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
        return labelled_formset(formset)


def labelled_formset(formset_class):
    """A subclass of ``formset_class`` whose forms' widgets carry an ``aria-label``."""

    class Labelled(formset_class):
        def add_fields(self, form, index):
            super().add_fields(form, index)
            row = "new row" if index is None else f"row {index + 1}"
            for name, field in form.fields.items():
                if field.widget.is_hidden:
                    continue
                label = "Delete" if name == "DELETE" else str(field.label or name)
                widget = field.widget
                # a related-object wrapper (the "+" and pencil links) renders its inner widget
                widget = getattr(widget, "widget", widget)
                widget.attrs["aria-label"] = f"{label} ({row})"

    Labelled.__name__ = formset_class.__name__
    Labelled.__qualname__ = formset_class.__qualname__
    return Labelled
