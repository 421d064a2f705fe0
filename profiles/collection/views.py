"""The collection API: Segment tracking spec endpoints under ``/v1/``.

Plain Django views rather than DRF: this is the hot path, and it answers in the shape SDKs expect.
Every error is JSON with a stable ``code``, a ``message`` and ``errors`` naming the fields; nothing a
client sends produces a 500. Responses:

* 200 ``{"success": true, "stored", "duplicates", "dropped", "rejected": [...]}`` — for a batch, the
  valid messages are stored even when others are rejected (listed with their ``index`` and ``field``);
* 400 when nothing could be accepted (bad JSON, wrong types, a missing id, over-size);
* 401 for an unknown or inactive write key; 405 for a method other than POST;
* 429 with ``Retry-After`` when the source's events-per-second budget is spent.
"""

import base64
import binascii
import zlib

import msgspec
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from profiles import ingestion
from profiles.collection import debugger, ratelimit
from profiles.sources import source_for_write_key


def _error(status: int, code: str, message: str, errors: list[dict] | None = None, **headers) -> JsonResponse:
    body = {"success": False, "code": code, "message": message, "errors": errors or []}
    response = JsonResponse(body, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class BadRequest(Exception):  # noqa: N818
    def __init__(self, code: str, message: str, field: str = "body", status: int = 400):
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status


def _read_body(request, limit: int) -> bytes:
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadRequest("too_large", f"The body is larger than {limit // 1024} KB") from None
    if request.headers.get("Content-Encoding", "").lower() in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)  # never inflate past the limit (gzip bombs)
        except zlib.error:
            raise BadRequest("malformed_gzip", "The body is not valid gzip") from None
    if len(body) > limit:
        raise BadRequest("too_large", f"The body is larger than {limit // 1024} KB")
    return body


def _write_key(request, body: dict) -> str:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            return base64.b64decode(header[6:].strip(), validate=True).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    key = body.get("writeKey")
    return key if isinstance(key, str) else ""


@csrf_exempt
def collect(request, kind: str):
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST", Allow="POST")
    received_at = timezone.now()
    batch = kind == "batch"
    limit = settings.CXO_MAX_BATCH_BYTES if batch else settings.CXO_MAX_MESSAGE_BYTES
    try:
        raw = _read_body(request, limit)
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError as error:
            raise BadRequest("malformed_json", f"The body is not valid JSON ({error})") from None
        if not isinstance(body, dict):
            raise BadRequest("invalid_body", "Expected a JSON object")
        source = source_for_write_key(_write_key(request, body))
        if source is None:
            raise BadRequest("invalid_write_key", "Unknown or inactive write key", "writeKey", 401)
        messages = body.get("batch") if batch else [body]
        if not isinstance(messages, list):
            raise BadRequest("invalid_batch", "Expected a list of messages", "batch")
    except BadRequest as error:
        return _error(
            error.status, error.code, error.message, [{"field": error.field, "message": error.message}]
        )

    if not ratelimit.allow(source_id=source["id"], limit=source["rate_limit"], count=max(len(messages), 1)):
        return _error(429, "rate_limited", "Too many events for this source; retry later", Retry_After="1")

    context = body.get("context") if batch and isinstance(body.get("context"), dict) else None
    result = ingestion.accept(
        source=source["id"],
        messages=messages,
        received_at=received_at,
        indexed=batch,
        sent_at=ingestion.parse_sent_at(body.get("sentAt")) if batch else None,
        type=None if batch else kind,
        batch_context=context,
    )
    rejected = [r.as_dict() for r in result.rejected]
    if batch:
        for item in rejected:
            item["field"] = f"batch[{item['index']}].{item['field']}"
    _record(source["id"], received_at, result, messages)
    if rejected and not (result.stored or result.duplicates or result.dropped):
        first = rejected[0]
        return _error(400, "invalid_message", f"{first['field']}: {first['message']}", rejected)
    return JsonResponse(
        {
            "success": True,
            "stored": len(result.stored),
            "duplicates": len(result.duplicates),
            "dropped": len(result.dropped),
            "rejected": rejected,
        }
    )


def _record(source_id: int, received_at, result: ingestion.AcceptResult, messages: list) -> None:
    entries = []
    for status, group in (
        ("accepted", result.stored),
        ("duplicate", result.duplicates),
        ("dropped", result.dropped),
    ):
        for accepted in group[: debugger.PER_REQUEST]:
            entries.append(
                debugger.entry(
                    received_at=received_at,
                    status=status,
                    message=accepted.payload,
                    type=accepted.type,
                    message_id=accepted.message_id,
                )
            )
    for rejection in result.rejected[: debugger.PER_REQUEST]:
        original = messages[rejection.index] if rejection.index is not None else messages[0]
        entries.append(
            debugger.entry(
                received_at=received_at,
                status="rejected",
                message=original,
                errors=[{"field": rejection.field, "message": rejection.message}],
            )
        )
    debugger.record(source_id, entries)
