"""Dates written in rules: ISO 8601 dates or date-times, UTC unless they say otherwise."""

import re
from datetime import UTC, datetime, timedelta

from .sql import ISO_DATE_RE

_ISO = re.compile(ISO_DATE_RE)


def is_date_only(value: str) -> bool:
    return len(value) == 10


def parse_date(value: str) -> datetime:
    """'2026-01-31' -> midnight UTC that day; a date-time keeps its offset (none means UTC).

    Raises ValueError for anything else, including impossible dates (2026-02-30).
    """
    if not isinstance(value, str) or not _ISO.match(value):
        raise ValueError(
            f"{value!r} is not an ISO 8601 date (2026-01-31) or date-time (2026-01-31T14:00:00Z)"
        )
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def window_end(value: str) -> datetime:
    """The exclusive end of a 'between' window: a date includes its whole day."""
    moment = parse_date(value)
    return moment + timedelta(days=1) if is_date_only(value) else moment
