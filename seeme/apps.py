from django.apps import AppConfig


class SeemeConfig(AppConfig):
    name = "seeme"
    verbose_name = "Datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The kernel's job kinds (noop); other apps register theirs in their ready().
        import seeme.jobs.kinds  # noqa: F401
