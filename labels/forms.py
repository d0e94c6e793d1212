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
