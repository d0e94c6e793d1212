"""Admin action on Version: assign items to splits by ratio, with a dry-run preview.

An intermediate page asks for the ratios and options; "Preview" shows the counts before and
after for every selected version without writing, "Apply" runs exactly the previewed plans
(a signed token of the versions, the parameters and each plan's fingerprint, as on the
Assign page; one transaction per version; a version whose splits do not match the ratios is
reported and left alone).
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from labels.forms import AssignForm, check_preview_token, preview_rows, preview_token
from labels.services.assignment import items_assign_to_splits
from seeme.exceptions import ServiceError

ACTION_NAME = "assign_splits"


@admin.action(description="Assign items to splits by ratio…", permissions=["change"])
def assign_splits(modeladmin, request, queryset):
    versions = list(queryset.select_related("dataset").order_by("dataset__name", "created_at"))
    submitted = "run" in request.POST
    form = AssignForm(
        request.POST if submitted else None,
        initial={
            "ratios": "train=0.8,valid=0.1,test=0.1",
            "scope": "unassigned",
            "separator": "_",
        },
    )
    previews = []
    token = ""
    if submitted and form.is_valid():
        apply = request.POST["run"] == "apply"
        params = form.cleaned_data
        expected: dict = {}
        if apply:
            try:
                expected = check_preview_token(
                    request.POST.get("preview_token", ""), [v.pk for v in versions], params
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
                apply = False
        plans = {}
        for version in versions if form.is_valid() else ():
            try:
                result = items_assign_to_splits(
                    version=version,
                    dry_run=not apply,
                    expect=expected.get(str(version.pk)) if apply else None,
                    **params,
                )
            except ServiceError as exc:
                modeladmin.message_user(request, f"{version}: {exc.message}", messages.ERROR)
                continue
            if apply:
                modeladmin.message_user(
                    request,
                    f"{version}: {result.considered:,} item(s) assigned, "
                    f"{result.moved:,} moved, {result.unchanged:,} unchanged.",
                    messages.SUCCESS,
                )
            else:
                plans[version.pk] = result.fingerprint()
                previews.append(
                    {"version": version, "result": result, "table": preview_rows(result.as_dict())}
                )
        if apply:
            return None  # back to the changelist, with the messages
        if plans:
            token = preview_token(plans, params)
    return TemplateResponse(
        request,
        "admin/labels/assign_splits.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Assign items to splits",
            "opts": modeladmin.model._meta,
            "versions": versions,
            "form": form,
            "previews": previews,
            "preview_token": token,
            "action_name": ACTION_NAME,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )
