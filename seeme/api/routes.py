"""Every API route, in one module: the SeeMe.ai dataset API under /api/v1/.

Paths take an optional trailing slash (the SDK sends none). Path ids are matched loosely
and parsed by the views, so a malformed id is a JSON 404 like an unknown one.
"""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from labels.api.archives import ArchiveViewSet
from labels.api.tools import SplitToolsViewSet
from labels.api.views import AnnotationViewSet, LabelStatViewSet, LabelViewSet
from seeme.api.files import (
    DatasetLogoUploadView,
    DatasetLogoView,
    ItemDownloadView,
    ItemUploadView,
)
from seeme.api.jobs import DatasetJobViewSet, JobViewSet
from seeme.api.states import ItemStateViewSet, ShareRolesView
from seeme.api.views import (
    APIKeyViewSet,
    ApplicationsView,
    DatasetViewSet,
    ItemViewSet,
    LoginView,
    LogoutView,
    RegisterView,
    VersionViewSet,
)
from splits.api.views import SplitViewSet


class Router(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        viewset.lookup_value_regex = getattr(viewset, "lookup_value_regex", None) or "[^/]+"
        return super().get_lookup_regex(viewset, lookup_prefix)


DATASET = r"datasets/(?P<dataset_id>[^/]+)"
VERSION = DATASET + r"/versions/(?P<version_id>[^/]+)"

router = Router()
router.register("me/apikeys", APIKeyViewSet, basename="apikey")
router.register("datasets", DatasetViewSet, basename="dataset")
router.register(DATASET + "/versions", VersionViewSet, basename="version")
router.register(VERSION + "/labels", LabelViewSet, basename="label")
router.register(VERSION + "/splits", SplitViewSet, basename="split")
router.register(VERSION + "/items", ItemViewSet, basename="item")
router.register(VERSION + "/annotations", AnnotationViewSet, basename="annotation")

label_stats = LabelStatViewSet.as_view({"get": "for_split"})
split_total = LabelStatViewSet.as_view({"get": "total_for_split"})


def _tool(method: str, action: str):
    return SplitToolsViewSet.as_view({method: action})


# Before the router: its split detail route would take "assign" for a split id.
tool_routes = [
    re_path(rf"^{VERSION}/splits/assign/?$", _tool("post", "assign"), name="split-assign"),
    re_path(
        rf"^{VERSION}/splits/(?P<split_id>[^/]+)/move/?$", _tool("post", "move"), name="split-move"
    ),
    re_path(rf"^{VERSION}/health/?$", _tool("get", "health"), name="version-health"),
    re_path(
        rf"^{VERSION}/health/scan/?$", _tool("post", "health_scan"), name="version-health-scan"
    ),
    re_path(rf"^{VERSION}/diff/(?P<other_id>[^/]+)/?$", _tool("get", "diff"), name="version-diff"),
    re_path(rf"^{VERSION}/new/?$", _tool("post", "duplicate"), name="version-duplicate"),
    re_path(
        rf"^{VERSION}/items/(?P<item_id>[^/]+)/state/?$",
        ItemStateViewSet.as_view({"get": "retrieve_state", "put": "update_state"}),
        name="item-state",
    ),
    re_path(
        rf"^{VERSION}/states/?$",
        ItemStateViewSet.as_view({"get": "list_states"}),
        name="version-states",
    ),
]
stats_csv = LabelStatViewSet.as_view({"get": "matrix_csv"})
# Item files and dataset logos (DATA.md "Item files").
file_routes = [
    re_path(
        rf"^{VERSION}/items/(?P<pk>[^/]+)/upload/?$", ItemUploadView.as_view(), name="item-upload"
    ),
    re_path(
        rf"^{VERSION}/items/(?P<pk>[^/]+)/download/?$",
        ItemDownloadView.as_view(),
        name="item-download",
    ),
    re_path(rf"^{DATASET}/upload/?$", DatasetLogoUploadView.as_view(), name="dataset-logo-upload"),
    re_path(rf"^{DATASET}/logo/?$", DatasetLogoView.as_view(), name="dataset-logo"),
]
job_routes = [
    re_path(
        r"^jobs/(?P<pk>[^/]+)/cancel/?$",
        JobViewSet.as_view({"post": "cancel"}),
        name="job-cancel",
    ),
    re_path(
        r"^jobs/(?P<pk>[^/]+)/download/?$",
        JobViewSet.as_view({"get": "download"}),
        name="job-download",
    ),
    re_path(r"^jobs/(?P<pk>[^/]+)/?$", JobViewSet.as_view({"get": "retrieve"}), name="job-detail"),
    re_path(
        rf"^{DATASET}/jobs/?$", DatasetJobViewSet.as_view({"get": "list"}), name="dataset-jobs"
    ),
]

# Whole versions as zip archives (DATA.md): before the router, like the tools.
archive_upload = ArchiveViewSet.as_view({"post": "upload"})
archive_download = ArchiveViewSet.as_view({"get": "download"})
archive_routes = [
    re_path(rf"^{VERSION}/upload/?$", archive_upload, name="version-upload"),
    re_path(
        rf"^{VERSION}/upload/(?P<archive_format>[^/]+)/?$",
        archive_upload,
        name="version-upload-format",
    ),
    re_path(rf"^{VERSION}/download/?$", archive_download, name="version-download"),
    re_path(
        rf"^{VERSION}/download/(?P<split_id>[^/]+)/?$",
        archive_download,
        name="version-download-split",
    ),
]

urlpatterns = [
    path("login", LoginView.as_view(), name="login-api"),
    path("logout", LogoutView.as_view(), name="logout-api"),
    path("register", RegisterView.as_view(), name="register-api"),
    path("applications", ApplicationsView.as_view(), name="applications"),
    re_path(r"^share-roles/?$", ShareRolesView.as_view(), name="share-roles"),
    path(
        "datasets/<str:dataset_id>/versions/<str:version_id>/labels/splits/<str:split_id>",
        label_stats,
        name="label-stats",
    ),
    path(
        "datasets/<str:dataset_id>/versions/<str:version_id>/labels/stats/splits/<str:split_id>",
        split_total,
        name="split-total",
    ),
    # Before the router: its label detail route would take "stats.csv" for a label id.
    path(
        "datasets/<str:dataset_id>/versions/<str:version_id>/labels/stats.csv",
        stats_csv,
        name="label-stats-csv",
    ),
    *tool_routes,
    *file_routes,
    *job_routes,
    *archive_routes,
    *router.urls,
]
