"""Pages of the split tools: assign by ratio (editors), split health (+ CSV), compare and
duplicate versions. Access follows the API: unknown or foreign ids are a 404, too low a role
a 403."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from labels.api.tools import query_string
from labels.compare import version_diff
from labels.forms import (
    PREVIEW_MAX_AGE,
    AssignForm,
    HealthThresholdsForm,
    check_preview_token,
    preview_rows,
    preview_token,
)
from labels.jobs import SPLIT_ASSIGN, VERSION_DUPLICATE, health_scan_enqueue, sync_limit
from labels.reports import split_health, split_health_csv
from labels.selectors import version_splits
from labels.services.assignment import items_assign_to_splits
from labels.services.versions import version_duplicate, version_duplicate_size
from seeme.exceptions import ServiceError
from seeme.jobs.selectors import job_for_user
from seeme.jobs.services import enqueue_job
from seeme.models import Item, Version
from seeme.selectors import Rank, version_for_user


def _start_job(request, kind: str, version: Version, params: dict, size: int):
    """Enqueue long work and go to its job page. The form's one-time ``job_token`` makes a
    form sent twice the same job."""
    job = enqueue_job(
        kind,
        dataset=version.dataset,
        user=request.user,
        params={"version_id": str(version.pk), **params},
        total=size,
        message="Queued",
        idempotency_key=request.POST.get("job_token", ""),
    )
    return redirect("seeme:job-detail", job_id=job.pk)


def _editable_version(request, dataset_id, version_id) -> Version:
    """The version if the user may change its splits: 404 for a stranger, 403 below editor."""
    return version_for_user(request.user, dataset_id, version_id, min_rank=Rank.EDITOR)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def split_assign(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Form + dry-run preview; "Apply" writes exactly the previewed plan (a signed token of
    the previewed parameters and plan), then goes back to the version page."""
    version = _editable_version(request, dataset_id, version_id)
    names = [split.name for split in version_splits(version=version)]
    default = {"train": 0.8, "valid": 0.1, "test": 0.1}
    ratios = ",".join(f"{n}={default[n]}" for n in names) if set(names) == set(default) else ""
    initial = {"ratios": ratios, "separator": "_", "scope": "unassigned"}
    preview = _preview_of_job(request, version, initial)
    form = AssignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        apply = request.POST.get("action") == "apply"
        data = form.cleaned_data
        try:
            expect = (
                check_preview_token(
                    request.POST.get("preview_token", ""),
                    [version.pk],
                    data,
                    max_age=PREVIEW_MAX_AGE,
                )[str(version.pk)]
                if apply
                else None
            )
            size = version_duplicate_size(version=version)
            if size > sync_limit():
                # Past the limit the preview and the apply are jobs; an apply job applies
                # exactly the previewed plan (``expect``), like the request would.
                params = {**data, "dry_run": not apply, **({"expect": expect} if apply else {})}
                return _start_job(request, SPLIT_ASSIGN, version, params, size)
            result = items_assign_to_splits(
                version=version, dry_run=not apply, expect=expect, **data
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        except ServiceError as exc:
            field = next((f for f in exc.errors if f in form.fields), None)
            form.add_error(field, exc.message)
        else:
            if apply:
                messages.success(
                    request,
                    f"Assigned {result.considered:,} item(s): "
                    f"{result.moved:,} moved, {result.unchanged:,} unchanged.",
                )
                return redirect(
                    "seeme:version-detail", dataset_id=version.dataset_id, version_id=version.pk
                )
            preview = {
                "result": result,
                "table": preview_rows(result.as_dict()),
                "token": preview_token({version.pk: result.fingerprint()}, data),
            }
    return render(
        request,
        "splits/assign.html",
        {
            "dataset": version.dataset,
            "version": version,
            "form": form,
            "preview": preview,
            "split_names": names,
            "job_token": uuid.uuid4().hex,
        },
    )


FINDING_NAMES = {
    "missing_label": "Label missing from a split",
    "share_imbalance": "Label shares differ between splits",
    "under_represented": "Under-represented label",
    "multi_split_items": "Items in two splits",
    "duplicates": "Identical items in different splits",
    "unlabelled": "Unlabelled items",
}
SEVERITY_NAMES = {"error": "Error", "warning": "Warning", "info": "Note"}


def _preview_of_job(request, version: Version, initial: dict) -> dict | None:
    """The preview a finished dry-run job computed (``?job=<id>``, past SEEME_SYNC_LIMIT);
    its options become the form's, so "Apply" applies what was previewed."""
    raw = request.GET.get("job")
    if not raw:
        return None
    try:
        job = job_for_user(request.user, uuid.UUID(raw))
    except ValueError as exc:
        raise Http404("No such job.") from exc
    params = job.params or {}
    if job.kind != SPLIT_ASSIGN or params.get("version_id") != str(version.pk):
        raise Http404("No such job.")
    if job.state != "done" or not (job.result or {}).get("dry_run"):
        return None
    options = {k: v for k, v in params.items() if k not in ("version_id", "dry_run", "expect")}
    initial.update(options)
    return {
        "result": job.result,
        "table": preview_rows(job.result),
        # The same token a preview in the request gives: Apply must send these options.
        "token": preview_token({version.pk: job.result.get("fingerprint", "")}, options),
    }


def _health_params(request) -> dict:
    return HealthThresholdsForm(request.GET).thresholds()


@login_required
@require_safe
def version_health(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Split health findings, each linked to the item browser or to its items. Past
    SEEME_SYNC_LIMIT memberships the item-level findings are the last background scan's."""
    version = version_for_user(request.user, dataset_id, version_id)
    form = HealthThresholdsForm(request.GET or None)
    report = split_health(version=version, scan_over=sync_limit(), **_health_params(request))
    browser = reverse(
        "seeme:item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )
    ids = {i for f in report.findings for i in f.item_ids}
    names = dict(Item.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    findings = []
    for f in report.findings:
        findings.append(
            {
                "finding": f,
                "name": FINDING_NAMES.get(f.kind, f.kind.replace("_", " ").capitalize()),
                "severity": SEVERITY_NAMES.get(f.severity, f.severity.capitalize()),
                "links": [
                    {"url": browser + "?" + query_string(flt), "text": _filter_text(flt, report)}
                    for flt in f.filters
                ],
                "items": [
                    {
                        "url": reverse(
                            "seeme:item-detail",
                            kwargs={
                                "dataset_id": version.dataset_id,
                                "version_id": version.pk,
                                "item_id": i,
                            },
                        ),
                        "name": names.get(i) or str(i),
                    }
                    for i in f.item_ids
                ],
            }
        )
    return render(
        request,
        "splits/health.html",
        {
            "dataset": version.dataset,
            "version": version,
            "report": report,
            "findings": findings,
            "form": form,
            "can_edit": version.rank >= Rank.EDITOR,
            "job_token": uuid.uuid4().hex,
        },
    )


def _filter_text(filters: dict, report) -> str:
    splits = {s.split.pk: s.split.name for s in report.splits}
    labels = {lb.pk: lb.name for lb in report.labels}
    parts = []
    if "labelId" in filters:
        parts.append(f"{labels.get(filters['labelId'], 'label')} items")
    if filters.get("onlyUnlabelled"):
        parts.append("unlabelled items")
    if "splitId" in filters:
        parts.append(f"in {splits.get(filters['splitId'], 'split')}")
    return " ".join(parts) or "items"


@login_required
@require_POST
def version_health_scan(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Re-check items in several splits and duplicates in the background (anyone who may see
    the version: the scan only reads), then follow the job; a scan already queued or running
    is followed instead of starting a second one."""
    version = version_for_user(request.user, dataset_id, version_id)
    job = health_scan_enqueue(
        version=version, user=request.user, idempotency_key=request.POST.get("job_token", "")
    )
    return redirect("seeme:job-detail", job_id=job.pk)


@login_required
@require_safe
def version_health_csv(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    version = version_for_user(request.user, dataset_id, version_id)
    report = split_health(version=version, scan_over=sync_limit(), **_health_params(request))
    response = HttpResponse(split_health_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="split-health-{version.pk}.csv"'
    return response


@login_required
@require_safe
def version_compare(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """This version against another of the dataset (``?other=<id>``), split by split."""
    version = version_for_user(request.user, dataset_id, version_id)
    versions = list(version.dataset.versions.order_by("created_at", "id"))
    other = None
    raw = request.GET.get("other")
    if raw:
        try:
            other_id = uuid.UUID(raw)
        except ValueError as exc:
            raise Http404("No such version.") from exc
        other = next((v for v in versions if v.pk == other_id), None)
        if other is None:
            raise Http404("No such version.")
    else:
        other = next((v for v in reversed(versions) if v.pk != version.pk), None)
    diff = version_diff(base=version, other=other) if other else None
    return render(
        request,
        "splits/compare.html",
        {
            "dataset": version.dataset,
            "version": version,
            "versions": versions,
            "other": other,
            "diff": diff,
            "can_edit": version.rank >= Rank.EDITOR,
            "job_token": uuid.uuid4().hex,
        },
    )


@login_required
@require_POST
def version_duplicate_page(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    version = _editable_version(request, dataset_id, version_id)
    size = version_duplicate_size(version=version)
    if size > sync_limit():
        return _start_job(
            request, VERSION_DUPLICATE, version, {"name": "", "description": ""}, size
        )
    copy = version_duplicate(version=version, user=request.user)
    messages.success(request, f"Version {version.name} duplicated as {copy.name}.")
    return redirect("seeme:version-detail", dataset_id=version.dataset_id, version_id=copy.pk)
