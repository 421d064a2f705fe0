"""Write-side use cases of audiences: create, change, evaluate (batch, streaming, on demand)."""

from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from cxo_site.errors import DomainError
from profiles.bulk import insert_rows
from profiles.models import Profile
from segments import rules
from segments.models import Audience, AudienceEvaluation, AudienceSizeSnapshot, Membership
from segments.signals import membership_changed

How = Membership.How
ANALYZE_AFTER = 5000  # memberships changed at once that make statistics worth refreshing (PostgreSQL)


@transaction.atomic
def create_audience(
    *,
    name: str,
    rule: dict | None = None,
    kind: str = Audience.Kind.RULE,
    created_by=None,
    description: str = "",
) -> Audience:
    """A rule audience (validated, then evaluated) or an empty list audience (members come by upload)."""
    if kind == Audience.Kind.RULE:
        rules.validate(rule)
    if Audience.objects.filter(name__iexact=name.strip()).exists():
        raise DomainError("An audience with this name already exists.", field="name", code="audience_exists")
    audience = Audience(
        name=name.strip(), kind=kind, rule=rule or {}, created_by=created_by, description=description
    )
    audience.full_clean()
    audience.save()
    if kind == Audience.Kind.RULE:
        start_evaluation(audience=audience)
    return audience


@transaction.atomic
def update_audience(*, audience: Audience, **changes) -> Audience:
    if "rule" in changes:
        rules.validate(changes["rule"])
    for field, value in changes.items():
        setattr(audience, field, value)
    audience.full_clean()
    audience.save()
    if "rule" in changes:
        start_evaluation(audience=audience)
    return audience


def start_evaluation(*, audience: Audience) -> AudienceEvaluation:
    """Queue a batch evaluation after the current transaction commits; returns the job to poll."""
    from segments import tasks

    job = AudienceEvaluation.objects.create(audience=audience)
    transaction.on_commit(lambda: tasks.evaluate_audience.delay(audience.pk, job.pk))
    return job


def evaluate_audience(
    *, audience_id: int, evaluation_id: int | None = None, now: datetime | None = None
) -> dict:
    """Batch: re-evaluate the audience over every profile and record who entered and who left."""
    now = now or timezone.now()
    job = AudienceEvaluation.objects.filter(pk=evaluation_id).first() if evaluation_id else None
    if job:
        AudienceEvaluation.objects.filter(pk=job.pk).update(status="running", started_at=now, progress=10)
    try:
        audience = Audience.objects.get(pk=audience_id)
        counts = _reconcile(audience, scope=None, how=How.BATCH, now=now)
    except Exception as error:
        if job:
            AudienceEvaluation.objects.filter(pk=job.pk).update(
                status="failed", error=str(error)[:2000], finished_at=timezone.now()
            )
        raise
    record_size(audience, size=counts["size"], now=now)
    if job:
        AudienceEvaluation.objects.filter(pk=job.pk).update(
            status="done",
            progress=100,
            finished_at=timezone.now(),
            entered=counts["entered"],
            exited=counts["exited"],
            still_in=counts["still_in"],
        )
    return counts


def record_size(audience: Audience, *, size: int, now: datetime) -> None:
    """A complete evaluation (batch or list upload) happened: its time, and a point of the size trend."""
    AudienceSizeSnapshot.objects.create(audience=audience, at=now, size=size)
    Audience.objects.filter(pk=audience.pk).update(last_evaluated_at=now)


@transaction.atomic
def _reconcile(audience: Audience, *, scope: list[int] | None, how: str, now: datetime) -> dict:
    """Make open memberships equal the rule's matches, for everyone (scope None) or some profiles.

    The rule runs once, as one set-based query; its ids and the open stays' ids (locked, so that
    concurrent evaluations of this audience take turns) are compared as sets: entered = matching and
    not open, exited = open and not matching. At 100k members that is ~7 MB of ids.
    """
    if audience.kind != Audience.Kind.RULE or not audience.is_active:
        return {"entered": 0, "exited": 0, "still_in": 0, "size": audience.size}
    matching = rules.matching_profiles(audience.rule, now=now)
    open_stays = Membership.objects.select_for_update().filter(audience=audience, exited_at=None)
    if scope is not None:
        matching = matching.filter(pk__in=scope)
        open_stays = open_stays.filter(profile_id__in=scope)
    current = set(open_stays.values_list("profile_id", flat=True))
    wanted = set(matching.values_list("pk", flat=True))
    return write_changes(
        audience, entered=sorted(wanted - current), exited=sorted(current - wanted), how=how, now=now
    )


def write_changes(
    audience: Audience, *, entered: list[int], exited: list[int], how: str, now: datetime
) -> dict:
    """Record entries and exits (in the caller's transaction), update the size and announce them."""
    for start in range(0, len(exited), 5000):  # chunks stay under SQLite's bound-parameter limit
        Membership.objects.filter(
            audience=audience, exited_at=None, profile_id__in=exited[start : start + 5000]
        ).update(exited_at=now, exited_how=how)
    # A concurrent evaluation may have let some of them in first: only rows really inserted count.
    entered = insert_rows(
        Membership,
        ["audience_id", "profile_id", "entered_at", "entered_how", "exited_how"],
        [(audience.pk, pk, now, how, "") for pk in entered],
        on_conflict="ON CONFLICT DO NOTHING",
        returning="profile_id",
    )
    if connection.vendor == "postgresql" and len(entered) + len(exited) >= ANALYZE_AFTER:
        # Many rows changed: refresh the planner's statistics now rather than when autovacuum gets to
        # it, or the next evaluation plans its anti-join for the old size (minutes instead of seconds).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Membership._meta.db_table}")  # noqa: S608 - the model's table
    size = Membership.objects.filter(audience=audience, exited_at=None).count()
    Audience.objects.filter(pk=audience.pk).update(size=size)
    if entered or exited:
        transaction.on_commit(
            lambda: membership_changed.send(
                sender=Audience, audience_id=audience.pk, entered=entered, exited=exited, how=how
            )
        )
    return {"entered": len(entered), "exited": len(exited), "still_in": size - len(entered), "size": size}


def evaluate_profiles_streaming(
    *, names_by_profile: dict[int, set[str] | None], now: datetime | None = None
) -> None:
    """Streaming: re-evaluate, for the profiles a processed batch touched, only the audiences their new
    events can affect (a rule's ``event_names`` None means any event can; a profile's names None means
    every audience, e.g. after a merge)."""
    now = now or timezone.now()
    affected: dict[int, list[int]] = defaultdict(list)
    audiences = {a.pk: a for a in Audience.objects.filter(kind=Audience.Kind.RULE, is_active=True)}
    for audience in audiences.values():
        names = rules.event_names(audience.rule)
        for profile_id, seen in names_by_profile.items():
            if names is None or seen is None or names & seen:
                affected[audience.pk].append(profile_id)
    for audience_id, profile_ids in affected.items():
        _reconcile(audiences[audience_id], scope=profile_ids, how=How.STREAMING, now=now)


def evaluate_profile(*, profile: Profile, now: datetime | None = None) -> list[Audience]:
    """On demand: bring one profile's memberships up to date; returns its current audiences."""
    now = now or timezone.now()
    for audience in Audience.objects.filter(kind=Audience.Kind.RULE, is_active=True):
        _reconcile(audience, scope=[profile.pk], how=How.ON_DEMAND, now=now)
    return list(Audience.objects.filter(memberships__profile=profile, memberships__exited_at=None))


def delete_audience(*, audience: Audience) -> None:
    audience.delete()
