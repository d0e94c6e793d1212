"""The job record: one row per run of long work (``seeme.jobs``), what the pages and the API
show while the task queue (django-tasks) runs it."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from seeme.models import Dataset, TimeStampedModel


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATES = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class Job(TimeStampedModel):
    """A run of long work of one registered ``kind`` (``seeme.jobs.registry``).

    ``done`` / ``total`` only grow (written with ``GREATEST``). A running job proves it is
    alive by ``heartbeat_at``; one whose heartbeat is older than the lease is requeued (up to
    ``SEEME_JOB_MAX_ATTEMPTS`` runs) or failed by ``jobs_reap``. ``attempts`` counts runs and
    fences each one: a run writes only while the row still carries its own attempt number.
    """

    kind = models.CharField(max_length=64)
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    result_url = models.CharField(max_length=500, blank=True, default="")
    errors = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["dataset", "-created_at"], name="job_dataset_recent"),
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in JobState]), name="job_state_valid"
            ),
            models.CheckConstraint(condition=Q(done__gte=0, total__gte=0), name="job_counts_ok"),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="job_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.state} ({self.done}/{self.total})"

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES
