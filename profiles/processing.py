"""Processing accepted messages into profiles and the event store, set-based.

One batch costs a handful of queries whatever its size: the identities it names are loaded at once,
the identity decisions are made in memory (:class:`profiles.identity.Resolver`), and then new
profiles, identities and events are bulk-inserted and touched profiles bulk-updated. Merges move the
merged profile's rows with one UPDATE per table.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import msgspec
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from profiles import identity as ids
from profiles.bulk import insert_rows
from profiles.consent import parse_consent
from profiles.messages import AcceptedMessage
from profiles.models import Event, Identity, Profile, ProfileMerge, RawEvent, Source
from profiles.signals import events_processed, profiles_merged

logger = logging.getLogger(__name__)

BEHAVIOURAL = {"track", "page", "screen"}
CHANNELS = {"web", "app", "store", "call_center", "email", "server"}
PROCESSING_LOCK = (
    724_001  # PostgreSQL advisory lock id: one processor at a time keeps identity decisions serial
)


@dataclass
class ProcessResult:
    processed: int = 0
    stored: int = 0
    dropped: int = 0
    profiles_created: int = 0
    merges: int = 0
    events: list[Event] = field(default_factory=list)


@dataclass
class ProfileState:
    """What one batch does to one profile, applied in message order."""

    traits: dict
    trait_timestamps: dict
    consent: dict
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    new_events: int = 0
    moved_events: int = 0
    changed: bool = False

    def apply_traits(self, traits: dict, at: str) -> None:
        for key, value in traits.items():
            if not isinstance(key, str) or not key:
                continue
            if self.trait_timestamps.get(key, "") <= at:
                self.traits[key] = value
                self.trait_timestamps[key] = at
                self.changed = True

    def apply_consent(self, statements: dict[str, bool], at: str) -> None:
        for purpose, granted in statements.items():
            current = self.consent.get(purpose)
            if current is None or current.get("at", "") <= at:
                self.consent[purpose] = {"granted": granted, "at": at}
                self.changed = True

    def seen(self, when: datetime) -> None:
        self.first_seen = when if self.first_seen is None else min(self.first_seen, when)
        self.last_seen = when if self.last_seen is None else max(self.last_seen, when)

    def absorb(self, other: "ProfileState") -> None:
        """Fold a merged profile's state in: later trait values and consent statements win."""
        for key, at in other.trait_timestamps.items():
            if self.trait_timestamps.get(key, "") <= at:
                self.traits[key] = other.traits.get(key)
                self.trait_timestamps[key] = at
        for key, value in other.traits.items():
            self.traits.setdefault(key, value)
        for purpose, statement in other.consent.items():
            mine = self.consent.get(purpose)
            if mine is None or mine.get("at", "") <= statement.get("at", ""):
                self.consent[purpose] = statement
        for when in (other.first_seen, other.last_seen):
            if when is not None:
                self.seen(when)
        self.new_events += other.new_events
        self.changed = True


def message_channel(payload: dict) -> str:
    context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    channel = context.get("channel") or payload.get("channel")
    if isinstance(channel, str):
        lowered = channel.strip().lower().replace("-", "_").replace(" ", "_")
        if lowered in CHANNELS:
            return lowered
        if lowered in {"browser", "website"}:
            return "web"
        if lowered in {"mobile", "ios", "android"}:
            return "app"
    library = context.get("library") if isinstance(context.get("library"), dict) else {}
    name = str(library.get("name", "")).lower()
    if "analytics.js" in name or "web" in name or context.get("page") or payload.get("type") == "page":
        return "web"
    if context.get("app") or payload.get("type") == "screen" or "ios" in name or "android" in name:
        return "app"
    return "server"


def _identifiers(payload: dict) -> dict[str, str]:
    traits = payload.get("traits") if isinstance(payload.get("traits"), dict) else {}
    context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    context_traits = context.get("traits") if isinstance(context.get("traits"), dict) else {}
    email = traits.get("email") or context_traits.get("email")
    phone = traits.get("phone") or context_traits.get("phone")
    return {
        "anonymous_id": ids.normalize(ids.ANONYMOUS_ID, payload.get("anonymousId")),
        "user_id": ids.normalize(ids.USER_ID, payload.get("userId")),
        "previous_id": ids.normalize(ids.USER_ID, payload.get("previousId")),
        "email": ids.normalize(ids.EMAIL, email),
        "phone": ids.normalize(ids.PHONE, phone),
    }


def _display_name(traits: dict) -> str:
    name = traits.get("name")
    if not name:
        first = traits.get("first_name") or traits.get("firstName") or ""
        last = traits.get("last_name") or traits.get("lastName") or ""
        name = f"{first} {last}".strip()
    return str(name or traits.get("email") or "")[:200]


def _load_identities(wanted: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    condition = Q()
    for namespace, values in wanted.items():
        if values:
            condition |= Q(namespace=namespace, value__in=values)
    if not condition:
        return {}
    rows = Identity.objects.filter(condition).values_list("namespace", "value", "profile_id")
    return {(namespace, value): profile_id for namespace, value, profile_id in rows}


def process_messages(*, source: Source, messages: list[AcceptedMessage]) -> ProcessResult:
    """Process messages of one source (the in-process bulk path, e.g. an import)."""
    return _process([(source, message) for message in messages])


def process_batch(items: list[tuple[Source, AcceptedMessage]]) -> ProcessResult:
    """Process messages of several sources at once, in timestamp order (the demo generator's path)."""
    return _process(items)


@transaction.atomic
def _process(items: list[tuple[Source, AcceptedMessage]]) -> ProcessResult:
    result = ProcessResult()
    if not items:
        return result
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROCESSING_LOCK])
    items = sorted(items, key=lambda item: item[1].timestamp)
    found = [_identifiers(message.payload) for _, message in items]

    wanted: dict[str, set[str]] = defaultdict(set)
    for found_ids in found:
        for namespace in ids.NAMESPACES:
            if found_ids[namespace]:
                wanted[namespace].add(found_ids[namespace])
        if found_ids["previous_id"]:
            wanted[ids.USER_ID].add(found_ids["previous_id"])
            wanted[ids.ANONYMOUS_ID].add(found_ids["previous_id"])
    identity_map = _load_identities(wanted)
    existing_ids = set(identity_map.values())
    user_rows = Identity.objects.filter(profile_id__in=existing_ids, namespace=ids.USER_ID)
    user_of: dict[int, str | None] = dict.fromkeys(existing_ids)
    user_of.update(dict(user_rows.values_list("profile_id", "value")))
    states = {
        p.pk: ProfileState(
            traits=p.traits,
            trait_timestamps=p.trait_timestamps,
            consent=p.consent,
            first_seen=p.first_seen,
            last_seen=p.last_seen,
        )
        for p in Profile.objects.filter(pk__in=existing_ids).only(
            "traits", "trait_timestamps", "consent", "first_seen", "last_seen"
        )
    }
    resolver = ids.Resolver(identities=identity_map, user_of=user_of)

    def state_of(key: int) -> ProfileState:
        if key not in states:
            states[key] = ProfileState(traits={}, trait_timestamps={}, consent={})
        return states[key]

    merges_applied = 0
    pending_events: list[tuple[int, Source, AcceptedMessage]] = []
    dropped_raw_ids: list[int] = []
    for (source, message), found_ids in zip(items, found, strict=True):
        payload = message.payload
        key = resolver.resolve(type=message.type, **found_ids)
        for merge in resolver.merges[merges_applied:]:
            state_of(merge.into).absorb(state_of(merge.merged))
        merges_applied = len(resolver.merges)
        state = state_of(key)
        at = message.timestamp.isoformat()
        statements = parse_consent(payload.get("context"))
        if statements:
            state.apply_consent(statements, at)
        collect = state.consent.get("collect")
        allowed = collect["granted"] if collect else bool(source.default_consent.get("collect", True))
        if not allowed:
            result.dropped += 1
            if message.raw_event_id:
                dropped_raw_ids.append(message.raw_event_id)
            continue
        if message.type == "identify":
            # RudderStack's SDKs send identify traits in context.traits; Segment's at the top level.
            state.apply_traits(
                {**_dict(_dict(payload.get("context")).get("traits")), **_dict(payload.get("traits"))}, at
            )
        state.seen(message.timestamp)
        state.new_events += 1
        pending_events.append((key, source, message))

    # New profiles that were not merged away within the batch.
    created = {key for key in resolver.new_profiles if resolver.find(key) == key}
    new_rows = {key: Profile() for key in sorted(created, reverse=True)}
    if new_rows:
        Profile.objects.bulk_create(new_rows.values())
    result.profiles_created = len(new_rows)

    def db_id(key: int) -> int:
        key = resolver.find(key)
        return new_rows[key].pk if key < 0 else key

    # Merges of profiles that exist in the database: move their rows, then remove them.
    merged_existing = [m for m in resolver.merges if m.merged > 0]
    merged_into: dict[int, list[int]] = defaultdict(list)
    for merge in merged_existing:
        into = db_id(merge.into)
        Event.objects.filter(profile_id=merge.merged).update(profile_id=into)
        Identity.objects.filter(profile_id=merge.merged).update(profile_id=into)
        ProfileMerge.objects.filter(into_profile_id=merge.merged).update(into_profile_id=into)
        merged_into[into].append(merge.merged)
    moved_counts = dict(
        Profile.objects.filter(pk__in=[m.merged for m in merged_existing]).values_list("pk", "event_count")
    )
    ProfileMerge.objects.bulk_create(
        [
            ProfileMerge(
                into_profile_id=db_id(m.into),
                merged_profile_id=m.merged if m.merged > 0 else None,
                reason=m.reason,
                events_moved=moved_counts.get(m.merged, 0) + state_of(m.merged).new_events,
            )
            for m in resolver.merges
        ]
    )
    if merged_existing:
        Profile.objects.filter(pk__in=[m.merged for m in merged_existing]).delete()
    result.merges = len(resolver.merges)

    # Identities: new ones in bulk, moved ones (shared devices, merges) one UPDATE each.
    Identity.objects.bulk_create(
        [
            Identity(
                profile_id=db_id(key),
                namespace=ns,
                value=value,
                first_seen=items[-1][1].timestamp,
                last_seen=items[-1][1].timestamp,
            )
            for (ns, value), key in resolver.new_identities.items()
        ],
        ignore_conflicts=True,
    )
    for (ns, value), key in resolver.moved_identities.items():
        if (ns, value) not in resolver.new_identities:
            Identity.objects.filter(namespace=ns, value=value).update(
                profile_id=db_id(key), last_seen=items[-1][1].timestamp
            )

    # The event store: one COPY (PostgreSQL) or multi-row INSERT per chunk. Columns are in the model's
    # field order, so that the stored events can be built positionally (much cheaper than keywords).
    columns = [f.column for f in Event._meta.concrete_fields if f.column != "id"]
    values = [
        (
            db_id(key),
            source.pk,
            message.raw_event_id,
            message.message_id,
            message.type,
            _event_name(message),
            message_channel(message.payload),
            message.timestamp,
            message.received_at,
            _dict(message.payload.get("properties")),
            _dict(message.payload.get("context")),
            str(message.payload.get("anonymousId") or "")[:255],
            str(message.payload.get("userId") or "")[:255],
            message.timestamp_clamped,
        )
        for key, source, message in pending_events
    ]
    assert columns[9:11] == ["properties", "context"], "Event's field order changed"  # noqa: S101
    rows = [(*row[:9], dumps(row[9]), dumps(row[10]), *row[11:]) for row in values]
    pks = insert_rows(Event, columns, rows, json_columns=frozenset({"properties", "context"}), returning="id")
    events = [Event(pk, *row) for pk, row in zip(pks, values, strict=True)]
    result.stored = len(events)

    # Profile aggregates.
    touched = {resolver.find(key) for key in states if resolver.find(key) == key}
    final_ids = {key: db_id(key) for key in touched}
    known = set(
        Identity.objects.filter(profile_id__in=final_ids.values(), namespace__in=[ids.USER_ID, ids.EMAIL])
        .values_list("profile_id", flat=True)
        .distinct()
    )
    rows = {p.pk: p for p in Profile.objects.filter(pk__in=final_ids.values())}
    extra_counts = defaultdict(int)
    for into, merged in merged_into.items():
        extra_counts[into] += sum(moved_counts.get(pk, 0) for pk in merged)
    updates = []
    for key, pk in final_ids.items():
        state, row = states[key], rows.get(pk)
        if row is None:
            continue
        row.traits, row.trait_timestamps, row.consent = state.traits, state.trait_timestamps, state.consent
        row.first_seen, row.last_seen = state.first_seen, state.last_seen
        row.event_count = row.event_count + state.new_events + extra_counts.get(pk, 0)
        row.is_known = pk in known
        row.display_name = _display_name(state.traits) or row.display_name
        updates.append(row)
    _update_profiles(updates)

    if dropped_raw_ids:
        RawEvent.objects.filter(pk__in=dropped_raw_ids).delete()
    result.processed = len(items)
    result.events = events
    if events:
        transaction.on_commit(lambda: events_processed.send(sender=Event, events=events))
    for into, merged in merged_into.items():
        transaction.on_commit(
            lambda into=into, merged=merged: profiles_merged.send(
                sender=Profile, into_profile_id=into, merged_profile_ids=merged
            )
        )
    return result


def _update_profiles(profiles: list[Profile]) -> None:
    """One parameterised UPDATE per profile, sent together (psycopg pipelines executemany).

    Django's bulk_update builds a CASE expression per field that PostgreSQL plans slowly for
    thousands of rows; this is several times faster for the same result.
    """
    if not profiles:
        return
    json = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"UPDATE {Profile._meta.db_table} SET traits = {json}, trait_timestamps = {json}, consent = {json}, "  # noqa: S608
        "first_seen = %s, last_seen = %s, event_count = %s, is_known = %s, display_name = %s WHERE id = %s"
    )
    params = [
        (
            dumps(p.traits),
            dumps(p.trait_timestamps),
            dumps(p.consent),
            p.first_seen,
            p.last_seen,
            p.event_count,
            p.is_known,
            p.display_name,
            p.pk,
        )
        for p in profiles
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def dumps(value) -> str:
    return msgspec.json.encode(value).decode()


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _event_name(message: AcceptedMessage) -> str:
    payload = message.payload
    if message.type == "track":
        return str(payload.get("event") or "")[:200]
    if message.type in ("page", "screen"):
        return str(payload.get("name") or "")[:200]
    return ""


def _accepted(row: RawEvent) -> AcceptedMessage:
    return AcceptedMessage(
        type=row.type,
        message_id=row.message_id,
        payload=row.payload,
        timestamp=row.timestamp,
        received_at=row.received_at,
        timestamp_clamped=row.timestamp_clamped,
        raw_event_id=row.pk,
    )


def process_pending(batch_size: int | None = None) -> int:
    """Process every pending raw event, batch by batch; returns how many were processed.

    A batch that fails is retried row by row so that one bad message is marked FAILED (with its
    error) without holding up the others.
    """
    size = batch_size or settings.CXO_PROCESS_BATCH_SIZE
    total = 0
    sources: dict[int, Source] = {}
    while True:
        rows = list(RawEvent.objects.filter(status=RawEvent.Status.PENDING).order_by("id")[:size])
        if not rows:
            return total
        missing = {row.source_id for row in rows} - sources.keys()
        sources.update(Source.objects.in_bulk(missing))
        try:
            _process_rows(rows, sources)
        except Exception:
            logger.exception("processing batch failed; retrying its %d messages one by one", len(rows))
            for row in rows:
                try:
                    _process_rows([row], sources)
                except Exception as exc:  # noqa: BLE001 - recorded on the row, the batch goes on
                    RawEvent.objects.filter(pk=row.pk).update(
                        status=RawEvent.Status.FAILED, error=str(exc)[:2000]
                    )
        total += len(rows)


@transaction.atomic
def _process_rows(rows: list[RawEvent], sources: dict[int, Source]) -> None:
    # Rows another worker already took are skipped: only still-pending ones are processed.
    locked = RawEvent.objects.filter(pk__in=[r.pk for r in rows], status=RawEvent.Status.PENDING)
    if connection.vendor == "postgresql":
        locked = locked.select_for_update(skip_locked=True)
    pending = set(locked.values_list("pk", flat=True))
    rows = [row for row in rows if row.pk in pending]
    if not rows:
        return
    _process([(sources[row.source_id], _accepted(row)) for row in rows])
    RawEvent.objects.filter(pk__in=[r.pk for r in rows]).update(status=RawEvent.Status.PROCESSED)
