"""The admin app with the seeme admin site (``seeme.admin_site``) as the default ``admin.site``.

Its own module: ``seeme/apps.py`` must hold one AppConfig for the seeme app itself.
"""

from django.contrib.admin.apps import AdminConfig


class SeemeAdminConfig(AdminConfig):
    default_site = "seeme.admin_site.SeemeAdminSite"
