"""Password validators (``AUTH_PASSWORD_VALIDATORS``), applied wherever a password is set:
registration, the admin, ``createsuperuser`` and ``changepassword``."""

from django.core.exceptions import ValidationError


class NotBlankValidator:
    """At least ``min_visible`` characters that are not whitespace: eight spaces pass
    Django's minimum length, but guessing them takes one try."""

    def __init__(self, min_visible: int = 8):
        self.min_visible = min_visible

    def validate(self, password: str, user=None) -> None:
        visible = sum(1 for ch in password if not ch.isspace())
        if visible < self.min_visible:
            raise ValidationError(
                f"The password needs at least {self.min_visible} characters that are not spaces.",
                code="password_blank",
            )

    def get_help_text(self) -> str:
        return f"Your password needs at least {self.min_visible} characters that are not spaces."


class MaximumLengthValidator:
    """At most ``max_length`` characters: longer ones add nothing and cost hashing time."""

    def __init__(self, max_length: int = 256):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"The password may be at most {self.max_length} characters long.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password may be at most {self.max_length} characters long."
