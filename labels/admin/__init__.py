"""Admin for labels, annotations and the (read-only, computed) label statistics.

Every write goes through ``labels.services``, so the statistics stay exact; LabelStat rows
can only be looked at, and repaired with the "Reconcile statistics" action.
"""

# Importing the modules registers their ModelAdmins with the site.
from labels.admin.annotations import AnnotationInline
from labels.admin.labels import LabelInline
from labels.admin.statistics import has_reconcile_permission, reconcile_and_report

__all__ = ["AnnotationInline", "LabelInline", "has_reconcile_permission", "reconcile_and_report"]
