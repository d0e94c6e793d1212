from django.apps import AppConfig


class SeemeConfig(AppConfig):
    name = "seeme"
    verbose_name = "Datasets"
    default_auto_field = "django.db.models.BigAutoField"
