"""The hand-over between collection and processing.

The collection API (``profiles.ingestion``) turns each valid Segment message into
an :class:`AcceptedMessage`; processing (``profiles.processing``) takes a list of
them, whether they were just loaded back from :class:`~profiles.models.RawEvent`
rows (the HTTP path) or built in-process (the demo generator, bulk imports).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple


@dataclass(slots=True)
class AcceptedMessage:
    type: str  # track | identify | page | screen | alias | group
    message_id: str
    payload: dict  # the message as received (camelCase keys, batch-level context merged in)
    timestamp: datetime  # corrected for clock skew, tz-aware UTC
    received_at: datetime
    timestamp_clamped: bool = False
    raw_event_id: int | None = None  # set when the message was stored as a RawEvent


class StoredEvent(NamedTuple):
    """An event as processing stored it, announced by ``profiles.signals.events_processed``.

    The same fields as :class:`~profiles.models.Event` (in its column order), as a plain tuple:
    building thousands of model instances per batch would cost more than storing them.
    """

    id: int
    profile_id: int
    source_id: int | None
    raw_event_id: int | None
    message_id: str
    type: str
    event: str
    channel: str
    timestamp: datetime
    received_at: datetime
    properties: dict
    context: dict
    anonymous_id: str
    user_id: str
    timestamp_clamped: bool
