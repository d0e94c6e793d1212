"""Root URLs: the API under /api/v1/, its schema and docs, admin, and the web pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from seeme.api import errors

urlpatterns = [
    path("api/v1/", include("seeme.api.routes")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
]

handler404 = "seeme.urls.not_found"
handler500 = "seeme.urls.server_error"


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return errors.api_not_found(request, exception)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return errors.api_server_error(request)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
