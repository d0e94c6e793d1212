"""Domain errors raised by services; the API layer maps them to HTTP answers."""


class ServiceError(Exception):
    """Base class: ``message`` is a sentence for a human, ``errors`` maps fields to lists."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(ServiceError):
    status = 400


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class PreconditionFailed(ServiceError):
    """An If-Match write lost the race; carries the item's version now."""

    status = 412

    def __init__(self, current_version: int) -> None:
        super().__init__(
            f"The item changed since it was read; it is now at version {current_version}.",
        )
        self.current_version = current_version


class FileRefused(ServiceError):
    """An uploaded file that is not accepted; ``reason`` is a short code (``unsupported_type``,
    ``not_an_image``, ``image_too_large``, ``scriptable``, ``empty``...), ``message`` says why."""

    status = 400

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, {"file": [message]})
        self.reason = reason


class FileTooLarge(FileRefused):
    """A file over ``SEEME_MAX_UPLOAD_MB``."""

    status = 413

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            "too_large",
            f"The file is {size} bytes; this server accepts files up to {limit} bytes "
            "(SEEME_MAX_UPLOAD_MB).",
        )


class StorageUnavailable(FileRefused):
    """The file store refused a write (full, read-only, unreachable): nothing was saved.
    507 when it is full, else 503; either way the client may try again later."""

    def __init__(self, full: bool) -> None:
        super().__init__(
            "storage_full" if full else "storage_unavailable",
            "The file store is full: nothing was saved. Try again once space is freed."
            if full
            else "The file store cannot be written to right now: nothing was saved. "
            "Try again later.",
        )
        self.status = 507 if full else 503
