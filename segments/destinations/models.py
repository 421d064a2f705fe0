"""Destinations: where an audience's members are sent (activation).

A :class:`Destination` belongs to one audience and is one of two kinds:

* ``webhook`` — streaming: every membership change of the audience becomes one or
  more :class:`Delivery` rows (batches of entered/exited profiles), each POSTed as
  JSON, signed with HMAC-SHA256 and retried with exponential back-off until it is
  delivered or dead-lettered after ``max_attempts``. A delivery's id and body are
  fixed when it is created, so a retry re-sends exactly the same bytes.
* ``file_export`` — scheduled: every ``interval_minutes`` a CSV of the audience's
  current members is written atomically; each run is an :class:`ExportRun`.

These models live in the ``segments`` app (``app_label``); ``segments/models.py``
imports this module so that Django loads them.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

SUBDIR_PATTERN = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\Z"  # no "..", no absolute paths


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def default_identity_namespaces() -> list[str]:
    return ["user_id", "email"]


class Destination(models.Model):
    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Streaming webhook"
        FILE_EXPORT = "file_export", "Scheduled file export"

    audience = models.ForeignKey("segments.Audience", on_delete=models.CASCADE, related_name="destinations")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    identity_namespaces = models.JSONField(
        default=default_identity_namespaces, help_text="Identity namespaces sent for each profile."
    )
    trait_keys = models.JSONField(
        default=list, blank=True, help_text="Trait keys sent for each profile (webhook: empty sends all)."
    )
    # webhook
    url = models.URLField(max_length=500, blank=True)
    secret = models.CharField(max_length=100, blank=True, default=new_webhook_secret)
    batch_size = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Profiles per POST (entered + exited).",
    )
    max_attempts = models.PositiveIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Failed attempts before dead-lettering.",
    )
    # file export
    interval_minutes = models.PositiveIntegerField(
        default=1440,
        validators=[MinValueValidator(5), MaxValueValidator(10080)],
        help_text="Minutes between exports.",
    )
    output_subdir = models.CharField(
        max_length=100,
        blank=True,
        validators=[
            RegexValidator(SUBDIR_PATTERN, "Use letters, digits, - and _ in folder names, separated by /.")
        ],
        help_text="Folder under the export directory (CXO_EXPORT_DIR).",
    )
    next_run_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next scheduled export is due."
    )

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "segments"
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["kind", "is_active", "next_run_at"], name="destination_due")]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One webhook POST: its id and body never change, whatever the number of attempts."""

    class Status(models.TextChoices):
        PENDING = "pending"  # created, first attempt not made yet
        SENDING = "sending"  # claimed by a sender
        RETRYING = "retrying"  # failed, next attempt at next_attempt_at
        DELIVERED = "delivered"
        DEAD = "dead"  # failed max_attempts times: the dead-letter log

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="deliveries")
    body = models.TextField(help_text="The exact JSON sent on every attempt.")
    entered_count = models.PositiveIntegerField(default=0)
    exited_count = models.PositiveIntegerField(default=0)
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed or made attempts since (re)queued.")
    total_attempts = models.PositiveIntegerField(default=0, help_text="Every attempt, across redeliveries.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "segments"
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["destination", "-created_at"], name="delivery_recent"),
        ]


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery (the log shown in the console)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "segments"
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_unique_number")
        ]


class ExportRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule"
        MANUAL = "manual"

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="export_runs")
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.SCHEDULE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    skipped_no_consent = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        app_label = "segments"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["destination", "-started_at"], name="export_run_recent")]


__all__ = ["Delivery", "DeliveryAttempt", "Destination", "ExportRun"]
