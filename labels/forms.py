"""Forms of the split tools, shared by the pages and the admin action."""

from django import forms
from django.core import signing

from labels.assignment import RatioError, parse_ratios


class AssignForm(forms.Form):
    ratios = forms.CharField(
        max_length=2000, help_text="split=ratio pairs adding up to 1, e.g. train=0.8,valid=0.2"
    )
    scope = forms.ChoiceField(
        choices=[
            ("unassigned", "Only items in no split"),
            ("all", "All items of the version (re-place them)"),
        ]
    )
    stratify = forms.BooleanField(
        required=False, help_text="Keep every label's ratios within one item."
    )
    group_by = forms.ChoiceField(
        choices=[
            ("none", "No groups"),
            ("name_prefix", "Name prefix before the separator"),
            ("field", "The item's group field"),
        ]
    )
    separator = forms.CharField(max_length=16, required=False, strip=False, initial="_")
    seed = forms.CharField(
        max_length=255, required=False, help_text="The same seed gives the same assignment."
    )

    def clean_ratios(self):
        try:
            parse_ratios(self.cleaned_data["ratios"])
        except RatioError as exc:
            raise forms.ValidationError(exc.errors) from exc
        return self.cleaned_data["ratios"]


def preview_rows(result: dict) -> dict:
    """The dry-run table: one column group per split, a row per label plus unlabelled and
    total, each cell (before, after, after - before) in items."""
    splits = result["splits"]

    def cell(before: int, after: int) -> dict:
        return {"before": before, "after": after, "delta": after - before}

    labels = splits[0]["labels"] if splits else []
    rows = [
        {
            "name": lb["name"],
            "cells": [
                cell(s["labels"][i]["before"]["items"], s["labels"][i]["after"]["items"])
                for s in splits
            ],
        }
        for i, lb in enumerate(labels)
    ]
    rows.append(
        {
            "name": "unlabelled",
            "kind": "unlabelled",
            "cells": [cell(s["before"]["unlabelled"], s["after"]["unlabelled"]) for s in splits],
        }
    )
    total = {
        "name": "Total",
        "cells": [cell(s["before"]["items"], s["after"]["items"]) for s in splits],
    }
    return {"splits": [s["name"] for s in splits], "rows": rows, "total": total}


class HealthThresholdsForm(forms.Form):
    """The thresholds of the split health page (fractions 0-1, like the API's)."""

    share_threshold = forms.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        label="Largest share gap between splits",
        help_text="0.1 = a label may be 10 points more common in one split than another.",
    )
    under_represented_ratio = forms.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        label="Under-represented below",
        help_text="A label with fewer items than this fraction of the largest label's.",
    )
    unlabelled_threshold = forms.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        label="Unlabelled share allowed",
        help_text="0 = report any unlabelled item.",
    )

    def thresholds(self) -> dict:
        """The valid, given values (the report's defaults stand in for the rest)."""
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v is not None}


# -- Apply is the preview (issue 13) ---------------------------------------------------------

PREVIEW_SALT = "seeme.splits.assign-preview"
PREVIEW_MAX_AGE = 30 * 60  # seconds a preview may be applied after


def preview_token(plans: dict, params: dict) -> str:
    """A signed, timestamped token of exactly what was previewed: ``plans`` maps each
    version id to its plan's fingerprint, ``params`` are the form's parameters. Apply
    accepts nothing else."""
    return signing.dumps(
        {"plans": {str(k): v for k, v in plans.items()}, "params": params}, salt=PREVIEW_SALT
    )


def check_preview_token(token: str, version_ids, params: dict, max_age=None) -> dict:
    """``{version id: previewed fingerprint}`` if ``token`` approves ``params`` on exactly
    these versions; ValueError with the reason for the page otherwise."""
    try:
        data = signing.loads(
            token or "",
            salt=PREVIEW_SALT,
            max_age=PREVIEW_MAX_AGE if max_age is None else max_age,
        )
    except signing.SignatureExpired as exc:
        raise ValueError("The preview is too old: preview again before applying.") from exc
    except signing.BadSignature as exc:
        raise ValueError("Preview first: Apply writes only what a preview showed.") from exc
    plans = data.get("plans") or {}
    if set(plans) != {str(v) for v in version_ids} or data.get("params") != params:
        raise ValueError(
            "The form changed since the preview: preview again, then apply what it shows."
        )
    return plans
