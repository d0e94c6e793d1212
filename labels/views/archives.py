"""The import page of a version: upload a zip, see the dry-run report (what it would add,
per split and label, and every problem), then import exactly that archive.

The checked archive is kept under its own key (``labels.archive.staging``: its SHA-256 and
a random part, never overwritten); the Import button carries a signed token naming that
key, the version, the format and a digest of the report. Importing re-reads the kept
bytes and refuses when the report they give now differs from the one shown (e.g. the
dataset became single-label meanwhile).
Large archives are imported by a job; the page then goes to the job's progress page."""

import hashlib
import json
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from labels.archive import FORMATS, SafeArchive, detect_format
from labels.archive.jobs import ARCHIVE_IMPORT, runs_as_job
from labels.archive.plan import ArchiveRejected
from labels.archive.staging import discard, open_staged, stage
from labels.services.imports import plan_for_version, plan_summary, version_import
from seeme.jobs.services import enqueue_job
from seeme.selectors import Rank, version_for_user

SALT = "labels.archive-import"
TOKEN_MAX_AGE = 24 * 3600
EMPTY = {"items": 0, "annotations": 0}
FORMAT_CHOICES = [("", "Detect from the archive")] + [(f, f) for f in FORMATS]


class UploadForm(forms.Form):
    file = forms.FileField(label="Zip archive", help_text="folders, yolo, csv or spacy-ner")
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False, label="Format")


def report_digest(report: dict) -> str:
    """What the Import button promises: the report without the new/existing flags."""
    core = {
        "items": report["items"],
        "splits": [{k: v for k, v in s.items() if k != "new"} for s in report["splits"]],
        "labels": [lb["name"] for lb in report["labels"]],
        "problems": report["problem_count"],
    }
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()


def _table(report: dict) -> dict:
    """The report as rows for the template: one per label (+ unlabelled, total), one
    column per split."""
    splits = report["splits"]
    rows = [
        {
            "name": label["name"],
            "new": label["new"],
            "cells": [s["labels"].get(label["name"], EMPTY) for s in splits],
        }
        for label in report["labels"]
    ]
    return {
        "splits": splits,
        "rows": rows,
        "unlabelled": [s["unlabelled"] for s in splits],
        "totals": [{"items": s["items"], "annotations": s["annotations"]} for s in splits],
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def archive_import(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Step 1 (upload): check and report. Step 2 (``token``): import what was reported."""
    version = version_for_user(request.user, dataset_id, version_id, min_rank=Rank.EDITOR)
    if request.method == "POST" and "token" in request.POST:
        return _import(request, version)
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict = {"dataset": version.dataset, "version": version, "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        archive = SafeArchive.open(upload)
        try:
            fmt = form.cleaned_data["format"] or detect_format(archive)
            plan = plan_for_version(version=version, archive=archive, fmt=fmt)
            report = plan_summary(version=version, plan=plan)
        finally:
            archive.close()
        context.update(report=report, table=_table(report), format=fmt)
        if not plan.problems:
            key = stage(upload)
            context["token"] = signing.dumps(
                {
                    "archive": key,
                    "version": str(version.pk),
                    "format": fmt,
                    "digest": report_digest(report),
                },
                salt=SALT,
            )
    return render(request, "labels/archive_import.html", context)


def _import(request, version):
    try:
        token = signing.loads(request.POST["token"], salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        messages.error(request, "This import form has expired or was changed; check again.")
        return redirect("labels:archive-import", version.dataset_id, version.pk)
    stream = open_staged(token["archive"]) if token.get("version") == str(version.pk) else None
    if stream is None:
        messages.error(request, "The checked archive is no longer kept; upload it again.")
        return redirect("labels:archive-import", version.dataset_id, version.pk)
    archive = SafeArchive.open(stream)
    try:
        if runs_as_job(archive):
            job = enqueue_job(
                ARCHIVE_IMPORT,
                dataset=version.dataset,
                user=request.user,
                params={
                    "version_id": str(version.pk),
                    "archive": token["archive"],
                    "format": token["format"],
                },
                message="Queued",
                idempotency_key=request.POST["token"][-64:],
            )
            return redirect("seeme:job-detail", job.pk)
        plan = plan_for_version(version=version, archive=archive, fmt=token["format"])
        if report_digest(plan_summary(version=version, plan=plan)) != token["digest"]:
            messages.error(request, "The archive would now import something else; check again.")
            return redirect("labels:archive-import", version.dataset_id, version.pk)
        try:
            report = version_import(version=version, user=request.user, plan=plan, archive=archive)
        except ArchiveRejected as exc:
            messages.error(request, exc.message)
            return redirect("labels:archive-import", version.dataset_id, version.pk)
    finally:
        archive.close()
        stream.close()
    discard(token["archive"])
    messages.success(
        request,
        f"Imported {report['items']} item(s) with {report['annotations']} annotation(s).",
    )
    return redirect("seeme:version-detail", dataset_id=version.dataset_id, version_id=version.pk)
