"""Parent scoping for the nested API: every id in the path is checked against its parent
and against what the caller may see; anything else is a 404, as if it did not exist.

The access query itself is ``seeme.selectors.dataset_for_user`` / ``version_for_user``;
this module turns its answers into DRF errors and gives the viewsets their one
``get_object`` (``ScopedObjectMixin``) and one service-calling ``update``
(``ServiceUpdateMixin``).
"""

import uuid
from functools import cached_property
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions
from rest_framework.response import Response

from seeme.models import Dataset, Version
from seeme.selectors import Rank, dataset_for_user, version_for_user

# The schema's answer for every JSON error ({message, errors?}).
ERROR = OpenApiResponse(description="JSON error: {message, errors?}")

READ = Rank.VIEWER
ANNOTATE = Rank.ANNOTATOR
EDIT = Rank.EDITOR
OWN = Rank.OWNER


def path_uuid(kwargs: dict, name: str) -> uuid.UUID:
    """The UUID in the path parameter ``name``; a malformed one is a 404."""
    try:
        return uuid.UUID(str(kwargs[name]))
    except (KeyError, ValueError) as exc:
        raise exceptions.NotFound() from exc


class DatasetAccessMixin:
    """Role checks for views under a dataset.

    ``action_ranks`` maps an action to the least role it needs; other safe methods need
    viewer, other writes editor. Seeing the dataset but lacking the role is a 403.
    """

    action_ranks: ClassVar[dict[str, int]] = {}
    action: str
    request: Any
    kwargs: dict

    def required_rank(self) -> Rank:
        if self.action in self.action_ranks:
            return Rank(self.action_ranks[self.action])
        return READ if self.request.method in ("GET", "HEAD", "OPTIONS") else EDIT

    def scoped(self, find, *args, **kwargs):
        """``find(user, *args, min_rank=..., **kwargs)`` (a ``seeme.selectors`` access
        query), its Django errors turned into the API's 404 and 403."""
        try:
            return find(self.request.user, *args, min_rank=self.required_rank(), **kwargs)
        except Http404 as exc:
            raise exceptions.NotFound() from exc
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc

    def visible_dataset(self, dataset_id: uuid.UUID, queryset=None) -> Dataset:
        """The dataset if the caller may see it (404 otherwise), after the role check."""
        return self.scoped(dataset_for_user, dataset_id, queryset=queryset)

    def resolve_parents(self) -> None:
        """Called first thing on every request: a bad parent is a 404 before the body is
        looked at."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if not getattr(self, "swagger_fake_view", False):
            self.resolve_parents()


class DatasetChildMixin(DatasetAccessMixin):
    """For viewsets under ``datasets/{dataset_id}/``."""

    parent_attr = "dataset"

    @cached_property
    def scoped_dataset(self) -> Dataset:
        return self.visible_dataset(path_uuid(self.kwargs, "dataset_id"))

    @property
    def scoped_parent(self) -> Model:
        return self.scoped_dataset

    def resolve_parents(self) -> None:
        self.scoped_dataset  # noqa: B018


class VersionChildMixin(DatasetAccessMixin):
    """For viewsets under ``datasets/{dataset_id}/versions/{version_id}/``: one query checks
    both ids, that they match, visibility and role."""

    parent_attr = "version"

    @cached_property
    def scoped_version(self) -> Version:
        return self.scoped(
            version_for_user,
            path_uuid(self.kwargs, "dataset_id"),
            path_uuid(self.kwargs, "version_id"),
        )

    @property
    def scoped_parent(self) -> Model:
        return self.scoped_version

    def resolve_parents(self) -> None:
        self.scoped_version  # noqa: B018


class ScopedObjectMixin:
    """``get_object`` for a viewset under a checked parent: the row ``pk`` of
    ``get_queryset()`` (already scoped to the parent) or a 404; the checked parent is set on
    it (``parent_attr``) so serializers and services need no further query."""

    scoped_parent: Model
    parent_attr: str
    kwargs: dict

    def get_queryset(self) -> QuerySet: ...  # pragma: no cover - given by the viewset

    def get_object(self):
        obj = self.get_queryset().filter(pk=path_uuid(self.kwargs, "pk")).first()
        if obj is None:
            raise exceptions.NotFound()
        if self.parent_attr:
            *path, name = self.parent_attr.split(".")
            target = obj
            for step in path:
                target = getattr(target, step)
            setattr(target, name, self.scoped_parent)
        return obj


class ServiceUpdateMixin:
    """``update`` (PUT, always partial) that validates the body with ``update_serializer``
    (default: the viewset's serializer), hands the valid data to
    ``perform_service_update(obj, data)`` -- the service call -- and answers the object as
    read back through ``response_serializer`` (default: the viewset's serializer)."""

    update_serializer_class: Any = None
    response_serializer_class: Any = None

    def perform_service_update(self, obj, data: dict):  # pragma: no cover - abstract
        """Call the service; return the updated object, or None to read it again."""
        raise NotImplementedError

    def update(self, request, *args, **kwargs):
        obj = self.get_object()  # type: ignore[attr-defined]
        if self.update_serializer_class is None:
            body = self.get_serializer(obj, data=request.data, partial=True)  # type: ignore[attr-defined]
        else:
            body = self.update_serializer_class(obj, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        updated = self.perform_service_update(obj, body.validated_data)
        if updated is None:
            updated = self.get_object()  # type: ignore[attr-defined]
        if self.response_serializer_class is None:
            return Response(self.get_serializer(updated).data)  # type: ignore[attr-defined]
        return Response(self.response_serializer_class(updated).data)
