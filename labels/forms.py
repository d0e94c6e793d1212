"""Forms of the split tools, shared by the pages and the admin action."""

from django import forms

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
