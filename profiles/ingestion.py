"""The collection write path: validate Segment messages and store them durably, fast.

``accept()`` is what the HTTP API (``profiles.collection.views``) and bulk importers call: it validates
each message (msgspec, in C), corrects its clock skew, drops messages whose own consent denies
collection, and writes the rest as :class:`~profiles.models.RawEvent` rows with one multi-row
``INSERT … ON CONFLICT DO NOTHING``, so a retried ``messageId`` is stored once. Processing into
profiles is queued when the transaction commits.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import msgspec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from profiles.bulk import insert_rows
from profiles.consent import collect_denied
from profiles.messages import AcceptedMessage
from profiles.models import MessageType, RawEvent, Source
from profiles.tasks import schedule_processing

TYPES = {t.value for t in MessageType}
MESSAGE_ID_NAMESPACE = uuid.UUID("8f6d4c1e-6b0f-4cde-9d55-3f0f1f0c7a11")
MAX_ID_LENGTH = 255

Id = str | int | None


class Message(msgspec.Struct, forbid_unknown_fields=False):
    """The typed view of one Segment message; unknown fields are kept in the stored payload."""

    type: str | None = None
    messageId: str | None = None  # noqa: N815 - the spec's field names
    anonymousId: Id = None  # noqa: N815
    userId: Id = None  # noqa: N815
    previousId: Id = None  # noqa: N815
    groupId: Id = None  # noqa: N815
    event: str | None = None
    name: str | None = None
    timestamp: datetime | None = None
    originalTimestamp: datetime | None = None  # noqa: N815
    sentAt: datetime | None = None  # noqa: N815
    context: dict | None = None
    properties: dict | None = None
    traits: dict | None = None
    integrations: dict | None = None


class MessageInvalid(Exception):  # noqa: N818 - named for what the caller sees
    """A message that cannot be accepted; ``field`` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Rejection:
    index: int | None
    field: str
    message: str

    def as_dict(self) -> dict:
        body = {"field": self.field, "message": self.message}
        if self.index is not None:
            body["index"] = self.index
        return body


@dataclass
class AcceptResult:
    stored: list[AcceptedMessage] = field(default_factory=list)
    duplicates: list[AcceptedMessage] = field(default_factory=list)
    dropped: list[AcceptedMessage] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _field_from_msgspec(error: msgspec.ValidationError) -> tuple[str, str]:
    text = str(error)
    message, _, path = text.partition(" - at `$")
    path = path.rstrip("`").lstrip(".")
    return (path or "message"), message


def validate_message(
    message: dict, *, received_at: datetime, sent_at: datetime | None = None, type: str | None = None
) -> AcceptedMessage:
    """One valid message as an :class:`AcceptedMessage`; raises :class:`MessageInvalid` naming the field."""
    if not isinstance(message, dict):
        raise MessageInvalid("message", "Expected a JSON object")
    try:
        typed = msgspec.convert(message, Message, strict=False)
    except msgspec.ValidationError as error:
        raise MessageInvalid(*_field_from_msgspec(error)) from None
    kind = type or typed.type
    if kind is None:
        raise MessageInvalid("type", "Missing field: give one of " + ", ".join(sorted(TYPES)))
    if kind not in TYPES:
        raise MessageInvalid("type", f"Unknown message type '{kind}'")
    for name in ("anonymousId", "userId", "previousId", "groupId", "messageId"):
        value = getattr(typed, name)
        if value is not None and len(str(value)) > MAX_ID_LENGTH:
            raise MessageInvalid(name, f"Longer than {MAX_ID_LENGTH} characters")
    if kind == "alias":
        if typed.previousId in (None, "") or typed.userId in (None, ""):
            raise MessageInvalid(
                "previousId" if typed.previousId in (None, "") else "userId",
                "alias needs both previousId and userId",
            )
    elif typed.userId in (None, "") and typed.anonymousId in (None, ""):
        raise MessageInvalid("userId", "Either userId or anonymousId is required")
    if kind == "track" and not typed.event:
        raise MessageInvalid("event", "track needs a non-empty event name")
    if kind == "group" and typed.groupId in (None, ""):
        raise MessageInvalid("groupId", "group needs a groupId")

    payload = message if message.get("type") == kind else {**message, "type": kind}
    message_id = typed.messageId or str(
        uuid.uuid5(MESSAGE_ID_NAMESPACE, msgspec.json.encode(payload).decode())
    )
    sent = _aware(typed.sentAt) or sent_at
    stamp = _aware(typed.timestamp) or _aware(typed.originalTimestamp)
    clamped = False
    if stamp is None:
        corrected = received_at
    elif sent is not None:
        corrected = received_at - (sent - stamp)  # the spec's clock-skew correction
    else:
        corrected = stamp
    if corrected > received_at + timedelta(seconds=settings.CXO_FUTURE_TOLERANCE_SECONDS):
        corrected, clamped = received_at, True
    return AcceptedMessage(
        type=kind,
        message_id=message_id,
        payload=payload,
        timestamp=corrected,
        received_at=received_at,
        timestamp_clamped=clamped,
    )


def parse_sent_at(value) -> datetime | None:
    """A batch-level ``sentAt``; an unreadable one is ignored (each message may carry its own)."""
    if not isinstance(value, str):
        return None
    try:
        return _aware(msgspec.convert(value, datetime))
    except msgspec.ValidationError:
        return None


def accept(
    *,
    source: Source | int,
    messages: list,
    received_at: datetime | None = None,
    sent_at: datetime | None = None,
    type: str | None = None,
    batch_context: dict | None = None,
    indexed: bool = False,
) -> AcceptResult:
    """Validate and durably store ``messages`` of one source; valid ones are kept even if others fail."""
    received_at = received_at or timezone.now()
    source_id = source if isinstance(source, int) else source.pk
    limit = settings.CXO_MAX_MESSAGE_BYTES
    result = AcceptResult()
    valid: dict[str, AcceptedMessage] = {}
    for index, message in enumerate(messages):
        position = index if indexed else None
        try:
            if batch_context and isinstance(message, dict):
                own = message.get("context")
                message = {
                    **message,
                    "context": {**batch_context, **own} if isinstance(own, dict) else batch_context,
                }
            accepted = validate_message(message, received_at=received_at, sent_at=sent_at, type=type)
            if len(msgspec.json.encode(accepted.payload)) > limit:
                raise MessageInvalid("message", f"Larger than {limit // 1024} KB")
        except MessageInvalid as error:
            result.rejected.append(Rejection(position, error.field, error.message))
            continue
        if collect_denied(accepted.payload.get("context")):
            result.dropped.append(accepted)  # validated, then not kept: consent denies collection
        elif accepted.message_id in valid:
            result.duplicates.append(accepted)
        else:
            valid[accepted.message_id] = accepted
    if valid:
        with transaction.atomic():
            inserted = _insert_raw(source_id, list(valid.values()))
            transaction.on_commit(schedule_processing)
        for message_id, accepted in valid.items():
            (result.stored if message_id in inserted else result.duplicates).append(accepted)
    return result


RAW_COLUMNS = [
    "source_id",
    "message_id",
    "type",
    "payload",
    "received_at",
    "timestamp",
    "timestamp_clamped",
    "status",
    "error",
]


def _insert_raw(source_id: int, messages: list[AcceptedMessage]) -> set[str]:
    """One multi-row INSERT that skips messageIds this source already sent; returns the inserted ids."""
    rows = [
        (
            source_id,
            m.message_id,
            m.type,
            msgspec.json.encode(m.payload).decode(),
            m.received_at,
            m.timestamp,
            m.timestamp_clamped,
            RawEvent.Status.PENDING,
            "",
        )
        for m in messages
    ]
    inserted = insert_rows(
        RawEvent,
        RAW_COLUMNS,
        rows,
        json_columns=frozenset({"payload"}),
        on_conflict="ON CONFLICT (source_id, message_id) DO NOTHING",
        returning="message_id",
    )
    return set(inserted)
