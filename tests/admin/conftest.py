"""Fixtures and helpers for driving the admin like a dataset manager does: GET a page, take
the form as rendered, change a few values, POST it back."""

from types import SimpleNamespace

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    share,
)


def admin_url(model, action: str, obj=None) -> str:
    """The admin URL of ``action`` (changelist, add, change, delete) for a model or row."""
    opts = model._meta
    args = (obj.pk,) if obj is not None else ()
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=args)


def form_data(response) -> dict:
    """The POST body of an admin add / change page submitted as rendered (inlines too)."""
    context = response.context
    all_forms = [context["adminform"].form]
    data: dict = {}
    for inline in context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        all_forms.extend(inline.formset.forms)
    for form in all_forms:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[key] = "on"
            elif value is None:
                data[key] = ""
            elif isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)
    return data


def add_row(data: dict, prefix: str, **values) -> None:
    """Append a new row to an inline formset in ``data``."""
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    for name, value in values.items():
        data[f"{prefix}-{n}-{name}"] = str(value)
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)


def row_of(data: dict, prefix: str, obj) -> str:
    """The field-name prefix (``memberships-0``) of the inline row showing ``obj``."""
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    for i in range(n):
        if data.get(f"{prefix}-{i}-id") == str(obj.pk):
            return f"{prefix}-{i}"
    raise AssertionError(f"no row for {obj} in {prefix}")


def errors_of(response) -> list[str]:
    """Every error shown on a re-rendered admin form (form, non-field and inline errors)."""
    assert response.status_code == 200, response.status_code
    found = [str(e) for e in response.context["adminform"].form.non_field_errors()]
    for name, errors in response.context["adminform"].form.errors.items():
        found.extend(f"{name}: {e}" for e in errors)
    for inline in response.context["inline_admin_formsets"]:
        found.extend(str(e) for e in inline.formset.non_form_errors())
        for form_errors in inline.formset.errors:
            for name, errors in form_errors.items():
                found.extend(f"{name}: {e}" for e in errors)
    return found


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def superuser(db):
    return UserFactory(username="root-admin", is_staff=True, is_superuser=True)


@pytest.fixture
def manager(superuser) -> Client:
    """A dataset manager's browser: logged in as a superuser."""
    client = Client()
    client.force_login(superuser)
    return client


def build_world(owner, *, tag: str = "a"):
    """A small dataset through the services: v1 with train / valid / test, labels cat and
    dog, item one in train (annotated cat) and valid, item two in train (unlabelled)."""
    dataset = DatasetFactory(owner=owner, name=f"pets {tag}")
    version = dataset.versions.get()
    splits = {s.name: s for s in version.splits.all()}
    cat = LabelFactory(version=version, name="cat")
    dog = LabelFactory(version=version, name="dog")
    one = ItemFactory(
        dataset_version=version, name=f"one-{tag}.jpg", splits=[splits["train"], splits["valid"]]
    )
    two = ItemFactory(dataset_version=version, name=f"two-{tag}.jpg", splits=[splits["train"]])
    annotation = AnnotationFactory(item=one, split=splits["train"], label=cat)
    return SimpleNamespace(
        dataset=dataset,
        version=version,
        splits=splits,
        train=splits["train"],
        valid=splits["valid"],
        test=splits["test"],
        cat=cat,
        dog=dog,
        one=one,
        two=two,
        annotation=annotation,
    )


@pytest.fixture
def world(user):
    return build_world(user)


@pytest.fixture
def shared(world, other_user):
    return share(world.dataset, other_user)
