"""Root URLs: the API under /api/v1/, its schema and docs, admin, and the web pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from labels.views import items, version
from seeme import views
from seeme.api import errors
from seeme.jobs import views as job_views

VERSION = "datasets/<uuid:dataset_id>/versions/<uuid:version_id>/"

# Page names live in app namespaces ("seeme:dataset-list"): the API router already uses the
# bare names (dataset-list, version-detail, item-list ...).
pages = (
    [
        path("", views.dataset_list, name="dataset-list"),
        path("datasets/<uuid:dataset_id>/", views.dataset_detail, name="dataset-detail"),
        path(VERSION, version.version_detail, name="version-detail"),
        path(VERSION + "items/", items.item_list, name="item-list"),
        path(VERSION + "items/<uuid:item_id>/", items.item_detail, name="item-detail"),
        path("jobs/<uuid:job_id>/", job_views.job_detail, name="job-detail"),
        path("jobs/<uuid:job_id>/cancel/", job_views.job_cancel_page, name="job-cancel"),
        path("datasets/<uuid:dataset_id>/jobs/", job_views.dataset_jobs, name="dataset-jobs"),
    ],
    "seeme",
)

urlpatterns = [
    path("api/v1/", include("seeme.api.routes")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="seeme/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
    path("admin/", admin.site.urls),
    path("login/", views.LoginPage.as_view(), name="login"),
    path("logout/", views.LogoutPage.as_view(), name="logout"),
    path("", include(pages)),
    path("", include("splits.urls")),
    path("", include("labels.urls")),
    path("", include("splits.tools_urls")),
]

handler400 = "seeme.urls.bad_request"
handler404 = "seeme.urls.not_found"
handler500 = "seeme.urls.server_error"


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):
        return errors.api_bad_request(request, exception)
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


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
