from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "labels"
    verbose_name = "Labels and statistics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The label services' job kinds (version duplicate, split assign and move,
        # reconcile): web processes and workers must know the same kinds.
        import labels.archive.jobs  # large archive imports
        import labels.jobs  # noqa: F401
