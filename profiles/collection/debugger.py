"""The live event debugger's buffer: the latest messages of each source, with their validation result.

Kept in the cache (a capped list per source), so the hot path pays one read and one write per request.
"""

from django.core.cache import cache

KEEP = 100
PER_REQUEST = 20
PAYLOAD_CHARS = 4000


def _key(source_id: int) -> str:
    return f"cxo:debugger:{source_id}"


def record(source_id: int, entries: list[dict]) -> None:
    if not entries:
        return
    current = cache.get(_key(source_id)) or []
    cache.set(_key(source_id), (entries[::-1] + current)[:KEEP], timeout=24 * 3600)


def recent(source_id: int, limit: int = 50) -> list[dict]:
    """Newest first: received_at, type, message_id, event, status, errors [{field, message}], payload."""
    return (cache.get(_key(source_id)) or [])[:limit]


def entry(
    *,
    received_at,
    status: str,
    message: dict | None,
    errors: list[dict] | None = None,
    type: str = "",
    message_id: str = "",
) -> dict:
    message = message if isinstance(message, dict) else {"value": message}
    payload = message
    text = str(message)
    if len(text) > PAYLOAD_CHARS:
        payload = {"truncated": text[:PAYLOAD_CHARS]}
    return {
        "received_at": received_at.isoformat(),
        "type": type or str(message.get("type", "")),
        "message_id": message_id or str(message.get("messageId", "")),
        "event": str(message.get("event") or message.get("name") or ""),
        "status": status,
        "errors": errors or [],
        "payload": payload,
    }
