"""Audiences and their members.

An :class:`Audience` selects profiles by a rule (``segments.rules``), an uploaded list, or later by
analytics or propensity scores. :class:`Membership` keeps history: a new row per stay, closed by
``exited_at``, so "who entered this week" is a query. Evaluation runs three ways with one meaning
(``segments.services``): batch over everyone, streaming for the profiles a processed batch touched,
and on demand for one profile.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Audience(models.Model):
    class Kind(models.TextChoices):
        RULE = "rule", "Rule"
        LIST = "list", "Uploaded list"
        ANALYTICS = "analytics", "Published from analytics (planned)"
        SCORE = "score", "Propensity score (planned)"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.RULE)
    rule = models.JSONField(default=dict, blank=True, help_text="The rule (docs/rules.md); empty for lists.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    is_active = models.BooleanField(default=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0, help_text="Current members at the last change.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class How(models.TextChoices):
        BATCH = "batch"
        STREAMING = "streaming"
        ON_DEMAND = "on_demand"
        LIST = "list"
        MANUAL = "manual"

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="memberships")
    profile = models.ForeignKey("profiles.Profile", on_delete=models.CASCADE, related_name="memberships")
    entered_at = models.DateTimeField()
    exited_at = models.DateTimeField(null=True, blank=True)
    entered_how = models.CharField(max_length=12, choices=How.choices)
    exited_how = models.CharField(max_length=12, choices=How.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["audience", "profile"],
                condition=Q(exited_at__isnull=True),
                name="membership_one_open_stay",
            ),
        ]
        indexes = [
            models.Index(fields=["audience", "exited_at"], name="membership_audience_open"),
            models.Index(fields=["profile", "exited_at"], name="membership_profile_open"),
            models.Index(fields=["audience", "-entered_at"], name="membership_audience_entered"),
        ]


class AudienceEvaluation(models.Model):
    """A batch evaluation job, polled by the console and the API."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="evaluations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    entered = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)
    still_in = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class AudienceSizeSnapshot(models.Model):
    """The audience's size after each batch evaluation: the trend in the list."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="snapshots")
    at = models.DateTimeField()
    size = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["audience", "-at"], name="snapshot_audience_at")]


class AudienceListUpload(models.Model):
    """One CSV list uploaded into a list audience, with what matched and what did not."""

    class Mode(models.TextChoices):
        REPLACE = "replace", "Replace the members"
        ADD = "add", "Add to the members"

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255, blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.REPLACE)
    columns = models.JSONField(default=list, help_text="The identity columns the file had.")
    rows = models.PositiveIntegerField(default=0)
    matched_rows = models.PositiveIntegerField(default=0)
    matched_profiles = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    unmatched = models.JSONField(
        default=list, help_text="[{row, values, reason}] for rows that matched no single profile (capped)."
    )
    entered = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]


from segments.destinations.models import *  # noqa: E402,F401,F403 - destination models live in the segments app
