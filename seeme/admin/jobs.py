"""Admin of jobs: read-only (jobs change only through their runs and ``job_cancel``); the
job page is one click away for progress and cancel."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from seeme.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("kind", "state", "dataset", "created_by", "done", "total", "created_at")
    list_filter = ("state", "kind")
    list_select_related = ("dataset", "created_by")
    search_fields = ("kind", "message")
    readonly_fields = ("page",)
    ordering = ("-created_at",)

    @admin.display(description="Job page")
    def page(self, job: Job) -> str:
        url = reverse("seeme:job-detail", kwargs={"job_id": job.pk})
        return format_html('<a href="{}">{}</a>', url, url)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
