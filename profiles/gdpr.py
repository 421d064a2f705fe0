"""GDPR access (export) and erasure of one person.

Erasure removes the person's events, raw messages, traits, identities, merge records and the profile
itself, then asks the database to reclaim the space (SQLite runs with ``secure_delete``, which
overwrites deleted content; PostgreSQL gets a VACUUM of the affected tables, see ``docs/privacy.md``).
What is kept is an :class:`~profiles.models.ErasureAudit` row with ids and counts, no personal data.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q

from profiles import selectors
from profiles.collection import debugger
from profiles.models import ErasureAudit, Event, Identity, Profile, ProfileMerge, RawEvent
from profiles.signals import profile_erased

ERASED_TABLES = [Event, RawEvent, Identity, ProfileMerge, Profile]


def export_profile(*, profile_id: int) -> dict:
    """Everything held about a person, as JSON-able data."""
    from profiles.api.serializers import EventOutput, ProfileOutput

    profile = selectors.profile_detail(profile_id=profile_id)
    events = selectors.profile_events(profile=profile).order_by("timestamp", "id")
    merges = ProfileMerge.objects.filter(into_profile=profile).values(
        "merged_profile_id", "reason", "events_moved", "merged_at"
    )
    return {
        "profile": ProfileOutput(profile).data,
        "events": EventOutput(events, many=True).data,
        "merges": list(merges),
    }


def erase_profile(*, profile_id: int, requested_by=None) -> ErasureAudit:
    """Remove a person's data for good; returns the audit entry (ids and counts only)."""
    profile = selectors.profile_detail(profile_id=profile_id)
    with transaction.atomic():
        profile_erased.send(sender=Profile, profile_id=profile.pk)
        identities = list(profile.identities.values_list("namespace", "value"))
        anonymous = [value for namespace, value in identities if namespace == "anonymous_id"]
        users = [value for namespace, value in identities if namespace == "user_id"]
        events = Event.objects.filter(profile=profile)
        source_ids = set(events.values_list("source_id", flat=True).distinct())
        raw = RawEvent.objects.filter(
            Q(pk__in=events.exclude(raw_event=None).values("raw_event_id"))
            | Q(payload__anonymousId__in=anonymous)
            | Q(payload__userId__in=users)
            | Q(payload__previousId__in=anonymous + users)
        )
        counts = {"raw_events": raw.delete()[0]}
        counts["events"] = events.delete()[0]
        counts["identities"] = Identity.objects.filter(profile=profile).delete()[0]
        counts["merges"] = ProfileMerge.objects.filter(into_profile=profile).delete()[0]
        profile.delete()
        audit = ErasureAudit.objects.create(profile_id=profile_id, requested_by=requested_by, counts=counts)
        transaction.on_commit(lambda: _forget_everywhere(source_ids))
    return audit


def _forget_everywhere(source_ids: set[int]) -> None:
    # The live debugger keeps recent payloads in the cache: drop those of the person's sources.
    cache.delete_many([debugger._key(source_id) for source_id in source_ids if source_id])
    reclaim_space()


def reclaim_space() -> None:
    """Physically remove deleted rows where the database allows it (outside any transaction)."""
    if connection.in_atomic_block:
        return  # inside a test transaction or a caller's transaction: VACUUM cannot run
    tables = [model._meta.db_table for model in ERASED_TABLES]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            full = "FULL, " if settings.CXO_ERASURE_VACUUM_FULL else ""
            cursor.execute(f"VACUUM ({full}ANALYZE) {', '.join(tables)}")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
