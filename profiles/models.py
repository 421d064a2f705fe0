"""Sources, raw messages, the identity graph, profiles and the event store.

The write path: the collection API validates a message and commits it as a
:class:`RawEvent` (durable before acknowledged, unique per source and
``messageId``). Processing (``profiles.processing``) then resolves identities to
a :class:`Profile`, applies traits and consent, and stores an :class:`Event`.
"""

import secrets

from django.conf import settings
from django.db import models

CONSENT_PURPOSES = ("collect", "personalize", "share")
CONSENT_CHANNELS = ("email", "sms", "push", "phone")
CONSENT_KEYS = CONSENT_PURPOSES + CONSENT_CHANNELS


def new_write_key() -> str:
    return secrets.token_urlsafe(24)


def default_source_consent() -> dict[str, bool]:
    """What a source assumes for a purpose its messages have not stated."""
    return {
        "collect": True,
        "personalize": False,
        "share": False,
        "email": False,
        "sms": False,
        "push": False,
        "phone": False,
    }


class Source(models.Model):
    """Where events come from (a website, an app, the store system, the call center)."""

    name = models.CharField(max_length=200, unique=True)
    write_key = models.CharField(max_length=64, unique=True, default=new_write_key)
    default_consent = models.JSONField(default=default_source_consent)
    rate_limit = models.PositiveIntegerField(
        default=0, help_text="Events per second accepted from this source; 0 uses CXO_DEFAULT_RATE_LIMIT."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    write_key_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MessageType(models.TextChoices):
    TRACK = "track"
    IDENTIFY = "identify"
    PAGE = "page"
    SCREEN = "screen"
    ALIAS = "alias"
    GROUP = "group"


class RawEvent(models.Model):
    """A validated message exactly as received, committed before the 200 is sent."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (source, message_id) constraint's index serves lookups by source.
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="raw_events", db_index=False)
    message_id = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=MessageType.choices)
    payload = models.JSONField()
    received_at = models.DateTimeField()
    timestamp = models.DateTimeField(help_text="Corrected for clock skew: receivedAt - (sentAt - timestamp).")
    timestamp_clamped = models.BooleanField(
        default=False, help_text="The sender's time was far in the future."
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="raw_event_unique_message")
        ]
        indexes = [
            # Only the processing queue is looked up by status: a partial index keeps it small, and
            # marking a row processed does not add an entry to it.
            models.Index(fields=["id"], name="raw_event_pending", condition=models.Q(status="pending")),
            models.Index(fields=["source", "-received_at"], name="raw_event_source_recent"),
        ]


class Profile(models.Model):
    """One person, known or anonymous. Traits are last-write-wins by event timestamp."""

    id = models.BigAutoField(primary_key=True)
    display_name = models.CharField(max_length=200, blank=True, db_index=True)
    traits = models.JSONField(default=dict)
    trait_timestamps = models.JSONField(
        default=dict, help_text="trait -> ISO timestamp of the event that set it"
    )
    consent = models.JSONField(default=dict, help_text='purpose -> {"granted": bool, "at": ISO timestamp}')
    is_known = models.BooleanField(default=False, help_text="Holds a user_id or email.")
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["-last_seen"], name="profile_last_seen"),
            models.Index(fields=["is_known"], name="profile_is_known"),
        ]

    def __str__(self) -> str:
        return self.display_name or f"Profile {self.pk}"

    def consent_granted(self, purpose: str, source_default: bool = False) -> bool:
        statement = self.consent.get(purpose)
        return bool(statement["granted"]) if statement else source_default


class Identity(models.Model):
    """One identifier of a person in a namespace; unique across all profiles."""

    class Namespace(models.TextChoices):
        ANONYMOUS_ID = "anonymous_id"
        USER_ID = "user_id"
        EMAIL = "email"
        PHONE = "phone"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="identities")
    namespace = models.CharField(max_length=20, choices=Namespace.choices)
    value = models.CharField(max_length=255, help_text="Normalized: emails lower-cased, phones in E.164.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["namespace", "value"], name="identity_unique_value")]
        indexes = [models.Index(fields=["value"], name="identity_value")]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.namespace}:{self.value}"


class Event(models.Model):
    """The event store: one row per processed message, attached to a profile."""

    id = models.BigAutoField(primary_key=True)
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="events", db_index=False)
    # Not indexed: every index slows the hot insert path, and events are never looked up by source
    # (deleting a source, rare, scans the table once).
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False)
    raw_event = models.ForeignKey(
        RawEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=True
    )
    message_id = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=MessageType.choices)
    event = models.CharField(max_length=200, blank=True, help_text="Track event name, or page/screen name.")
    channel = models.CharField(
        max_length=20, blank=True, help_text="web, app, store, call_center, email, server"
    )
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict)
    context = models.JSONField(default=dict)
    anonymous_id = models.CharField(max_length=255, blank=True)
    user_id = models.CharField(max_length=255, blank=True)
    timestamp_clamped = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["profile", "-timestamp"], name="event_profile_time"),
            models.Index(fields=["event", "timestamp"], name="event_name_time"),
            models.Index(fields=["timestamp"], name="event_time"),
        ]


class ProfileMerge(models.Model):
    """Record of an anonymous profile merged into another one (by identify or alias)."""

    into_profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="merges")
    merged_profile_id = models.BigIntegerField(
        null=True,
        db_index=True,
        help_text="The id the merged profile had; empty when it was created and merged in the same batch.",
    )
    reason = models.CharField(max_length=16, help_text="identify or alias")
    events_moved = models.PositiveIntegerField(default=0)
    merged_at = models.DateTimeField(auto_now_add=True)


class ErasureAudit(models.Model):
    """A GDPR erasure that was carried out. Holds no personal data: ids and counts only."""

    profile_id = models.BigIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    erased_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, help_text="rows removed per table")
