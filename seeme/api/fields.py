"""Serializer fields for the SeeMe wire format: strings never null, strict types."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string that refuses numbers and booleans; ``null`` reads as "" when optional."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        if not kwargs.get("required", False):
            kwargs.setdefault("allow_blank", True)
            kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None and self.allow_null:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)

    def get_attribute(self, instance):
        # DRF renders a None attribute (or a missing optional key) as null without asking the
        # field; answer "" instead: responses never carry a null string.
        value = super().get_attribute(instance)
        return "" if value is None else value

    def to_representation(self, value):
        return "" if value is None else str(value)


class OptionalCharField(StrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean; ``null`` falls back to the default instead of failing (declared in
    the schema: the field is ``nullable``)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None:
            from rest_framework.fields import SkipField

            if self.default is not serializers.empty:
                return True, self.get_default()
            raise SkipField()
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class IdField(serializers.UUIDField):
    """A UUID in a request body; malformed ones are a 400 that names the field."""

    default_error_messages = {"invalid": "Must be a valid UUID."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StringIdField(serializers.Field):
    """A related id rendered as a string, "" when there is none."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        return "" if value is None else value

    def to_representation(self, value):
        return "" if value is None else str(value)
