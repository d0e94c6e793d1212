from django.apps import AppConfig


class SplitsConfig(AppConfig):
    name = "splits"
    verbose_name = "Splits"
    default_auto_field = "django.db.models.BigAutoField"
