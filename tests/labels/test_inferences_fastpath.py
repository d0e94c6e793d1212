"""The add_inferences body through ``seeme.api.fastpath``: the same validated data, the same
errors and the same response as DRF's own path (``FastSerializerMixin.fast_path = False``),
for random bodies (hypothesis) and for a table of bad ones through the HTTP API."""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from labels.api.serializers import (
    AddInferencesSerializer,
    InferenceItemSerializer,
    InferenceSerializer,
)
from seeme.api.fastpath import FastSerializerMixin
from seeme.api.fields import OptionalCharField
from tests.factories import LabelFactory


@contextmanager
def drf_only():
    with mock.patch.object(FastSerializerMixin, "fast_path", False):
        yield


def validate(body) -> tuple[bool, object]:
    serializer = AddInferencesSerializer(data=body)
    if serializer.is_valid():
        return True, serializer.validated_data
    return False, serializer.errors


def render(validated) -> bytes:
    """The response body the view sends for ``validated``."""
    return JSONRenderer().render(AddInferencesSerializer(validated).data)


# -- random bodies ----------------------------------------------------------------------------


def _string(max_length: int | None):
    near = [] if max_length is None else [max_length - 1, max_length, max_length + 1]
    sizes = st.sampled_from([0, 1, 5, *near])
    return st.one_of(
        st.text(max_size=8),
        st.sampled_from([" ", "  cat ", "\tdog\n", "\x00", "a\ud800b", "\u00a0x\u2003", "🐈"]),
        st.builds(lambda n, pad: pad + "x" * n + pad, sizes, st.sampled_from(["", " "])),
    )


ANY_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["0.5", "x", "", "1e999", "nan"]),
)
ODD = st.one_of(ANY_SCALAR, st.just([]), st.just({}), st.just(["a"]), st.just({"a": 1}))


def _field(strategy):
    """A key's value: absent (None here, dropped by _object), or one of ``strategy``/odd."""
    return st.one_of(st.just(...), strategy, ODD)


def _object(fields: dict):
    return st.fixed_dictionaries({name: _field(s) for name, s in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not ...}
    )


ITEM = _object(
    {
        "id": _string(None),
        "prediction": st.one_of(st.sampled_from(["cat", "dog", ""]), _string(255)),
        "confidence": st.floats(0, 1),
        "coordinates": _string(100_000),
        "inference_id": _string(None),
    }
)
ITEMS = st.one_of(st.lists(st.one_of(ITEM, ODD), max_size=3), st.lists(ITEM, max_size=3))
INFERENCE = _object(
    {
        "id": _string(None),
        "name": _string(255),
        "description": _string(10_000),
        "prediction": st.one_of(st.sampled_from(["cat", "dog", ""]), _string(255)),
        "confidence": st.one_of(st.floats(0, 1), st.integers(0, 1)),
        "extension": _string(32),
        "model_id": _string(None),
        "model_version_id": _string(None),
        "result": _string(None),
        "config": _string(None),
        "dataset_item_id": _string(None),
        "inference_items": ITEMS,
        "unknown": st.text(max_size=3),
    }
)
BODY = st.fixed_dictionaries(
    {
        "keep_annotations": _field(st.booleans()),
        "inferences": st.one_of(
            st.lists(INFERENCE, max_size=4),
            st.lists(st.one_of(INFERENCE, ODD), max_size=3),
            ODD,
        ),
    }
).map(lambda d: {k: v for k, v in d.items() if v is not ...})
# Text the API takes: no NUL, no lone surrogate.
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=10)
MOSTLY_VALID = st.fixed_dictionaries(
    {
        "inferences": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": TEXT,
                    "description": TEXT,
                    "prediction": st.sampled_from(["cat", "dog", "", None]),
                    "confidence": st.one_of(st.none(), st.floats(0, 1), st.integers(0, 1)),
                    "extension": st.sampled_from(["jpg", " png ", None]),
                    "result": TEXT,
                    "inference_items": st.one_of(
                        st.none(),
                        st.lists(
                            st.fixed_dictionaries(
                                {},
                                optional={
                                    "prediction": st.sampled_from(["cat", "dog", None]),
                                    "confidence": st.floats(0, 1),
                                    "coordinates": st.sampled_from(["", "[1, 2, 3, 4]", None]),
                                },
                            ),
                            max_size=3,
                        ),
                    ),
                },
            ),
            max_size=5,
        )
    }
)
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(body=st.one_of(BODY, MOSTLY_VALID))
def test_the_fast_path_validates_and_answers_like_drf(body):
    with mock.patch("django.conf.settings.SEEME_MAX_INFERENCES", 3):
        fast = validate(body)
        with drf_only():
            reference = validate(body)
    assert fast == reference
    ok, validated = fast
    if ok:
        for i, inference in enumerate(validated["inferences"]):
            inference["dataset_item_id"] = f"item-{i}"  # as the view does
        answer = render(validated)
        with drf_only():
            assert answer == render(validated)


@EXAMPLES
@given(body=MOSTLY_VALID)
def test_plain_bodies_take_the_fast_path(body):
    """No DRF field validates anything: the whole body went through the compiled plan."""
    with mock.patch.object(
        serializers.CharField, "run_validation", side_effect=AssertionError("DRF's path")
    ):
        ok, _ = validate(body)
    assert ok


@EXAMPLES
@given(
    instance=st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(st.none(), st.text(max_size=5), st.integers()),
            "confidence": st.one_of(st.none(), st.floats(0, 1), st.integers(-5, 5)),
            "inference_items": st.one_of(
                st.none(),
                st.lists(
                    st.fixed_dictionaries(
                        {}, optional={"prediction": st.one_of(st.none(), st.text(max_size=3))}
                    ),
                    max_size=2,
                ),
            ),
        },
    )
)
def test_representation_of_any_dict_is_drfs(instance):
    fast = JSONRenderer().render(InferenceSerializer(instance).data)
    with drf_only():
        assert fast == JSONRenderer().render(InferenceSerializer(instance).data)


def test_the_inference_serializers_compile():
    """If a field change stopped them compiling, every body would silently go DRF's (slow)
    way: this fails instead."""
    assert InferenceItemSerializer()._plan() is not None
    assert InferenceSerializer()._plan() is not None


def test_serializers_the_fast_path_does_not_know_go_drfs_way():
    class WithInteger(FastSerializerMixin, serializers.Serializer):
        n = serializers.IntegerField(required=False)

    class WithValidate(FastSerializerMixin, serializers.Serializer):
        s = OptionalCharField()

        def validate(self, attrs):
            raise serializers.ValidationError("no")

    class WithMinLength(FastSerializerMixin, serializers.Serializer):
        s = OptionalCharField(min_length=3)

    assert WithInteger()._plan() is None
    assert WithValidate()._plan() is None
    assert WithMinLength()._plan() is None
    assert not WithValidate(data={"s": "x"}).is_valid()
    serializer = WithMinLength(data={"s": "ab"})
    assert not serializer.is_valid() and "s" in serializer.errors


# -- the HTTP API -------------------------------------------------------------------------------


def _url(split):
    return reverse(
        "split-add-inferences",
        kwargs={
            "dataset_id": split.version.dataset_id,
            "version_id": split.version_id,
            "pk": split.pk,
        },
    )


NOT_NULL = ["This field may not be null."]
# (body, the "errors" of the 400 answer), as answered before the fast path (checked on main).
BAD_BODIES = [
    ({"inferences": [{"name": 5}]}, {"inferences": {"0": {"name": ["Must be a string."]}}}),
    ({"inferences": [{"name": True}]}, {"inferences": {"0": {"name": ["Must be a string."]}}}),
    (
        {"inferences": [{"name": "x" * 256}]},
        {"inferences": {"0": {"name": ["Ensure this field has no more than 255 characters."]}}},
    ),
    (
        {"inferences": [{"extension": " " + "x" * 33}]},
        {"inferences": {"0": {"extension": ["Ensure this field has no more than 32 characters."]}}},
    ),
    (
        {"inferences": [{"confidence": "x"}]},
        {"inferences": {"0": {"confidence": ["A valid number is required."]}}},
    ),
    (
        {"inferences": [{"confidence": 10**400}]},
        {"inferences": {"0": {"confidence": ["Integer value too large to convert to float"]}}},
    ),
    (
        {"inferences": [{"inference_items": {}}]},
        {
            "inferences": {
                "0": {
                    "inference_items": {
                        "non_field_errors": ['Expected a list of items but got type "dict".']
                    }
                }
            }
        },
    ),
    (
        {"inferences": [{"inference_items": [{"prediction": 5}]}]},
        {"inferences": {"0": {"inference_items": {"0": {"prediction": ["Must be a string."]}}}}},
    ),
    (
        {"inferences": [{"inference_items": [{"coordinates": "x" * 100_001}]}]},
        {
            "inferences": {
                "0": {
                    "inference_items": {
                        "0": {
                            "coordinates": ["Ensure this field has no more than 100000 characters."]
                        }
                    }
                }
            }
        },
    ),
    (
        {"inferences": [{"name": "ok"}, {"name": 1}, {"description": []}]},
        {
            "inferences": {
                "1": {"name": ["Must be a string."]},
                "2": {"description": ["Must be a string."]},
            }
        },
    ),
    (
        {"inferences": [[]]},
        {
            "inferences": {
                "0": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
            }
        },
    ),
    ({"inferences": [None]}, {"inferences": {"0": NOT_NULL}}),
    ({"inferences": None}, {"inferences": NOT_NULL}),
    ({}, {"inferences": ["This field is required."]}),
    (
        {"inferences": {}},
        {"inferences": {"non_field_errors": ['Expected a list of items but got type "dict".']}},
    ),
    (
        {"keep_annotations": "true", "inferences": []},
        {"keep_annotations": ["Must be true or false."]},
    ),
    (
        {"inferences": [{"prediction": "zebra"}, {"prediction": "cat"}, {"prediction": "emu"}]},
        {"inferences": ["unknown label 'emu'", "unknown label 'zebra'"]},
    ),
    (
        {"inferences": [{"name": "n"}] * 4},
        {"inferences": ["At most 3 inferences per request."]},
    ),
]


@pytest.mark.parametrize("body,errors", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_bodies_get_the_same_json_400(api, version, splits, settings, body, errors):
    settings.SEEME_MAX_INFERENCES = 3
    LabelFactory(version=version, name="cat")
    response = api.post(_url(splits["train"]), body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert response.json()["message"]
    with drf_only():
        again = api.post(_url(splits["train"]), body, format="json")
    assert (again.status_code, again.json()) == (400, response.json())
    assert not version.items.exists()


def test_a_null_inference_item_is_a_400(api, version, splits):
    """It used to reach the service and fail there (a 500)."""
    body = {"inferences": [{"inference_items": [None, {"prediction": "cat"}]}]}
    response = api.post(_url(splits["train"]), body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"inferences": {"0": {"inference_items": {"0": NOT_NULL}}}}


def test_good_bodies_get_the_same_answer_but_for_the_new_ids(api, version, splits):
    LabelFactory(version=version, name="cat")
    body = {
        "keep_annotations": None,
        "inferences": [
            {"name": " padded ", "confidence": 1, "extension": None, "inference_items": None},
            {"prediction": "cat", "confidence": None, "unknown": "dropped"},
            {"inference_items": [{"prediction": "cat", "coordinates": "[1,2,3,4]"}], "id": "i"},
            {},
        ],
    }
    answers = []
    for fast in (True, False):
        with mock.patch.object(FastSerializerMixin, "fast_path", fast):
            response = api.post(_url(splits["train"]), body, format="json")
        assert response.status_code == 200
        answer = response.json()
        ids = [inference.pop("dataset_item_id") for inference in answer["inferences"]]
        assert all(ids)
        answers.append(answer)
    assert answers[0] == answers[1]
    assert answers[0]["inferences"][0] == {
        "id": "",
        "name": "padded",
        "description": "",
        "prediction": "",
        "confidence": 1.0,
        "extension": "",
        "model_id": "",
        "model_version_id": "",
        "result": "",
        "config": "",
        "inference_items": [],
    }
    assert answers[0]["inferences"][1]["confidence"] is None
    assert answers[0]["inferences"][2]["inference_items"] == [
        {
            "id": "",
            "prediction": "cat",
            "confidence": 0.0,
            "coordinates": "[1,2,3,4]",
            "inference_id": "",
        }
    ]
