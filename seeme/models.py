"""The shared kernel: datasets, their versions and items, sharing and API keys.

Everything else (splits, labels, statistics) hangs from a Version. Writes go through
``seeme.services``; these classes hold data and the invariants SQL can enforce.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length

from seeme.ids import uuid7

# Lets constraints say name__length__gt=0 (a non-empty name) in every app.
models.CharField.register_lookup(Length)


class TimeStampedModel(models.Model):
    """Abstract base: a UUID primary key and creation / modification timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person or script account; UUID primary key like every other row."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class ContentType(models.TextChoices):
    IMAGES = "images", "Images"
    TEXT = "text", "Text"
    TABULAR = "tabular", "Tabular"
    NER = "ner", "Named entities"
    DOCUMENTS = "documents", "Documents"


class Blob(models.Model):
    """A stored file, addressed by the SHA-256 of its bytes: stored once however many items
    (in however many versions) refer to it.

    ``updated_at`` is touched each time the file is stored again; ``gc_files`` removes a blob
    no item and no dataset logo refers to only once it is older than a grace period, so a
    blob stored for an item that is about to be created is not collected meanwhile.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16, help_text="image, pdf, doc, docx or text")
    extension = models.CharField(max_length=16)
    content_type = models.CharField(max_length=128)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["created_at", "sha256"]

    def __str__(self) -> str:
        return f"{self.sha256[:12]}….{self.extension} ({self.size} bytes)"


class Dataset(TimeStampedModel):
    """A named collection of versions, owned by one user and shared with others by role."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    multi_label = models.BooleanField(
        default=False,
        help_text="When off, a new whole-item annotation replaces the item's previous one.",
    )
    default_splits = models.BooleanField(
        default=False, help_text="The first version was created with train / valid / test."
    )
    content_type = models.CharField(
        max_length=16, choices=ContentType.choices, default=ContentType.IMAGES
    )
    logo = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer (read)"
    ANNOTATOR = "annotator", "Annotator (read + annotations)"
    EDITOR = "editor", "Editor (everything but deleting or sharing the dataset)"


class DatasetShare(TimeStampedModel):
    """Grants one user a role on a dataset owned by someone else."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dataset_shares"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "user"], name="share_unique_user"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="share_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} → {self.user} ({self.role})"


class Version(TimeStampedModel):
    """A version of a dataset: the unit that owns labels, splits and items."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    default_split = models.CharField(max_length=255, blank=True, default="")
    config = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="version_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} / {self.name}"


class Item(TimeStampedModel):
    """One data item (an image, a text, a row) of a version.

    ``version`` is the optimistic-concurrency counter behind ``If-Match``: every change to
    the item's own fields increments it.
    """

    dataset_version = models.ForeignKey(
        Version,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # item_version_order leads with it
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    text = models.TextField(blank=True, default="")
    extension = models.CharField(max_length=32, blank=True, default="")
    group = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="Items of one group are kept in one split by the split assignment.",
    )
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="SHA-256 of the item's file, else of its text: finds duplicates across splits.",
    )
    file = models.ForeignKey(
        Blob,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="The item's file; set only through seeme.files (content_hash follows it).",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["dataset_version", "created_at", "id"], name="item_version_order"),
            models.Index(fields=["dataset_version", "name"], name="item_version_name"),
            models.Index(fields=["dataset_version", "content_hash"], name="item_version_hash"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="item_version_positive"),
        ]

    def __str__(self) -> str:
        return self.name or str(self.id)


def text_content_hash(text: str) -> str:
    """The ``content_hash`` of an item without a file: SHA-256 of its text, "" for no text."""
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


class APIKey(TimeStampedModel):
    """An API key: only its SHA-256 hash and a short display prefix are stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=255, blank=True, default="")
    key_prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name or 'key'} ({self.key_prefix}…)"


class ItemState(TimeStampedModel):
    """The annotation-workflow state of one item (SeeMe's item state), at most one per item.

    ``version`` is its own optimistic-concurrency counter (``If-Match`` on the state
    endpoint), bumped by one on every write; an item never written has no row.
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="state")
    dataset_version = models.ForeignKey(
        Version, on_delete=models.CASCADE, related_name="item_states"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    state = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["dataset_version", "state"], name="itemstate_version_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__length__gt=0), name="itemstate_not_empty"),
            models.CheckConstraint(condition=Q(version__gte=1), name="itemstate_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.state}"


# The job record lives in its own package (seeme/jobs/); importing it here registers it.
import seeme.jobs.models  # noqa: E402, F401
