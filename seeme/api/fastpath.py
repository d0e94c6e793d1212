"""A fast path through DRF for serializers that a request carries by the thousand.

``add_inferences`` takes 10,000 inferences in one body; DRF's field-by-field machinery
(``run_validation`` / ``to_representation`` of every field of every nested serializer) cost
more than writing them to the database. ``FastSerializerMixin`` compiles a serializer's
declared fields, once per class, into plain checks, and uses them on input they plainly
accept. Everything else goes DRF's way, so:

- the *errors* are DRF's own, by construction: a value the fast path is not sure of (wrong
  type, too long, a refused character, not a dict, a ``validate_<field>`` that refuses it)
  sends the whole object back through DRF, which then answers exactly as before;
- the *results* are the same as DRF's: proved field kind by field kind in
  ``tests/seeme/test_api_fastpath.py`` (hypothesis: random bodies, fast path on and off).

Field kinds the fast path knows (a serializer with any other field, a ``validate()``, or
serializer-level validators never takes the fast path):

- an optional ``StrictCharField`` (``seeme.api.fields``) with at most a ``max_length``;
- a ``FloatField`` without bounds;
- a nested ``many=True`` list of another ``FastSerializerMixin`` serializer, without length
  limits.

``validate_<field>`` methods run on the fast path too; they must not have side effects (a
refusal runs them again, the DRF way).
"""

import math
from typing import Any

from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from seeme.api.fields import StrictCharField
from seeme.textsafety import REFUSED

# "The fast path cannot tell: ask DRF", and "no such key": values no body holds.
REFUSE = object()
MISSING = object()

_CHAR_VALIDATORS = {
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
    ProhibitSurrogateCharactersValidator,
}

CHAR, FLOAT, LIST = "char", "float", "list"


class NotCompilable(Exception):
    pass


class Plan:
    """A compiled serializer: ``internal(data)`` is the validated dict or REFUSE,
    ``representation(instance)`` what DRF's ``to_representation`` answers for a dict.

    Each field is a row (name, kind, argument): the max_length of a string, the default of a
    number, the child's Plan of a list. One loop over the rows, no call per field: a request
    of 10,000 inferences runs it 10,000 times (and its inference items' once more each)."""

    def __init__(self, serializer: serializers.Serializer, rows: list[tuple]) -> None:
        self.rows = rows
        self.serializer = serializer
        self.validators = {
            name: method
            for name, _, _ in rows
            if (method := getattr(serializer, f"validate_{name}", None)) is not None
        }

    def internal(self, data: Any) -> Any:
        if type(data) is not dict:
            return REFUSE
        get, validators, search = data.get, self.validators, REFUSED.search
        validated = {}
        for name, kind, arg in self.rows:
            value = get(name, MISSING)
            if kind is CHAR:
                if value is MISSING:
                    continue  # DRF: SkipField, the key stays out
                if value is None:
                    value = ""  # StrictCharField: null reads as ""
                elif type(value) is str:
                    value = value.strip()  # CharField(trim_whitespace=True)
                    # MaxLengthValidator, ProhibitNull/SurrogateCharactersValidator
                    if (arg is not None and len(value) > arg) or search(value):
                        return REFUSE
                else:
                    return REFUSE
            elif kind is FLOAT:
                if value is MISSING:
                    value = arg  # the default
                elif value is not None:  # None: allow_null (checked when compiled)
                    if type(value) is int:
                        try:
                            value = float(value)
                        except OverflowError:
                            return REFUSE
                    elif type(value) is not float:
                        return REFUSE  # strings, booleans and the rest: DRF decides
                    if not math.isfinite(value):
                        return REFUSE
            elif value is MISSING:  # LIST: the default (list, called)
                value = []
            elif value is not None:  # None: allow_null (checked when compiled)
                if type(value) is not list:
                    return REFUSE
                child, items = arg.internal, []
                for item in value:
                    item = child(item)
                    if item is REFUSE:
                        return REFUSE
                    items.append(item)
                value = items
            validate = validators.get(name)
            if validate is not None:
                try:
                    value = validate(value)
                except ValidationError:
                    return REFUSE
            validated[name] = value
        return validated

    def representation(self, instance: dict) -> dict:
        get = instance.get
        answer: dict[str, Any] = {}
        for name, kind, arg in self.rows:
            value = get(name, MISSING)
            if kind is CHAR:  # missing (allow_null) or None: StrictCharField answers ""
                if value is None or value is MISSING:
                    value = ""
                elif type(value) is not str:
                    value = str(value)
            elif kind is FLOAT:
                if value is MISSING:
                    value = arg
                if value is not None and type(value) is not float:
                    value = float(value)
            else:
                if value is MISSING:
                    value = []
                if value is not None:
                    fast, child = arg.representation, arg.serializer.to_representation
                    value = [fast(item) if type(item) is dict else child(item) for item in value]
            answer[name] = value
        return answer


def _plain(field: serializers.Field) -> bool:
    return (
        not field.required
        and not field.read_only
        and not field.write_only
        and field.source == field.field_name
    )


def _char(field: StrictCharField) -> tuple:
    if not (_plain(field) and field.allow_null and field.allow_blank and field.trim_whitespace):
        raise NotCompilable(f"{field.field_name}: not an optional string")
    if field.min_length is not None or not {type(v) for v in field.validators} <= _CHAR_VALIDATORS:
        raise NotCompilable(f"{field.field_name}: validators the fast path does not know")
    if field.default is not empty:
        raise NotCompilable(f"{field.field_name}: a default")
    return field.field_name, CHAR, field.max_length


def _float(field: serializers.FloatField) -> tuple:
    if not (_plain(field) and field.allow_null) or field.validators:
        raise NotCompilable(f"{field.field_name}: not an unbounded optional number")
    if type(field.default) not in (float, int):
        raise NotCompilable(f"{field.field_name}: no constant default")
    return field.field_name, FLOAT, field.default


def _nested_list(field: serializers.ListSerializer) -> tuple:
    child = field.child
    plan = child._plan() if isinstance(child, FastSerializerMixin) else None
    if type(field) is not serializers.ListSerializer or plan is None:
        raise NotCompilable(f"{field.field_name}: not a list of a fast serializer")
    if not (_plain(field) and field.allow_null and field.allow_empty) or field.validators:
        raise NotCompilable(f"{field.field_name}: a list with limits")
    if field.max_length is not None or field.min_length is not None:
        raise NotCompilable(f"{field.field_name}: a list with limits")
    if field.default is not list:
        raise NotCompilable(f"{field.field_name}: a default other than list")
    return field.field_name, LIST, plan


def _compile(serializer: serializers.Serializer) -> Plan | None:
    if type(serializer).validate is not serializers.Serializer.validate or serializer.validators:
        return None
    rows = []
    try:
        for field in serializer.fields.values():
            if isinstance(field, StrictCharField):
                rows.append(_char(field))
            elif type(field) is serializers.FloatField:
                rows.append(_float(field))
            elif isinstance(field, serializers.ListSerializer):
                rows.append(_nested_list(field))
            else:
                raise NotCompilable(f"{field.field_name}: {type(field).__name__}")
    except NotCompilable:
        return None
    return Plan(serializer, rows)


# DRF's results, faster, for dict input a compiled serializer plainly accepts (see the
# module's docstring). ``fast_path = False`` (tests: the reference) always goes DRF's way. The
# plan is compiled once per serializer instance: a ``many=True`` list validates all its items
# with its one child. (No docstring: drf-spectacular would show it as each serializer's
# description in the OpenAPI schema.)
class FastSerializerMixin:
    fast_path = True

    def _plan(self) -> Plan | None:
        if "_fast_plan" not in self.__dict__:
            self.__dict__["_fast_plan"] = _compile(self)  # type: ignore[arg-type]
        return self.__dict__["_fast_plan"]

    def run_validation(self, data=empty):
        if self.fast_path and not getattr(self.root, "partial", False):  # type: ignore[attr-defined]
            plan = self._plan()
            if plan is not None:
                value = plan.internal(data)
                if value is not REFUSE:
                    return value
        return super().run_validation(data)  # type: ignore[misc]

    def to_representation(self, instance):
        if self.fast_path and type(instance) is dict:
            plan = self._plan()
            if plan is not None:
                return plan.representation(instance)
        return super().to_representation(instance)  # type: ignore[misc]
