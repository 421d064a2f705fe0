"""Webhook delivery: sign, POST, record the attempt, back off, dead-letter.

A delivery is claimed with one conditional UPDATE before it is sent, so two
senders (the retry task and the beat sweep) never POST it at the same time;
the receiver still sees the same ``X-CXO-Delivery`` id on every retry and can
de-duplicate on it. Retries wait ``base * 2**(attempt-1)`` seconds (capped):
30 s, 1 min, 2 min, 4 min, ... with the defaults.
"""

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from segments.destinations.models import Delivery, DeliveryAttempt

log = logging.getLogger(__name__)

USER_AGENT = "CXO-Webhook/1"
STALE_CLAIM = timedelta(minutes=10)  # a sender that died mid-POST: the sweep re-queues its delivery


def sign(secret: str, body: bytes) -> str:
    """The ``X-CXO-Signature`` header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempt: int) -> int:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    base = settings.CXO_WEBHOOK_RETRY_BASE_SECONDS
    return int(min(base * 2 ** (attempt - 1), settings.CXO_WEBHOOK_RETRY_MAX_SECONDS))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: urllib would re-send a POST as a bodiless GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST ``body``; ``(status code or None, error text — empty on a 2xx)``."""
    if not url.lower().startswith(("http://", "https://")):
        return None, "Only http:// and https:// URLs can receive webhooks."
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (checked)
    try:
        with _opener.open(request, timeout=settings.CXO_WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(65536)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:1000]


def claim(delivery_id, now: datetime) -> bool:
    """Take a due delivery for sending; False when it is not due, already taken, done or paused."""
    return bool(
        Delivery.objects.filter(
            pk=delivery_id,
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
            next_attempt_at__lte=now + timedelta(seconds=1),
            destination__is_active=True,
        ).update(status=Delivery.Status.SENDING, claimed_at=now)
    )


def send_delivery(*, delivery_id, now: datetime | None = None) -> Delivery | None:
    """Make one attempt at a due delivery; None when there was nothing to send.

    Returns the delivery after the attempt: ``delivered``, ``retrying`` (with its
    next attempt time) or ``dead`` after ``max_attempts`` failures.
    """
    now = now or timezone.now()
    if not claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("destination").get(pk=delivery_id)
    destination = delivery.destination
    body = delivery.body.encode()
    attempt = delivery.attempts + 1
    number = delivery.total_attempts + 1
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CXO-Delivery": str(delivery.pk),
        "X-CXO-Signature": sign(destination.secret, body),
        "X-CXO-Attempt": str(attempt),
    }
    started = time.monotonic()
    status_code, error = post(destination.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300

    delivery.attempts = attempt
    delivery.total_attempts = number
    delivery.last_status_code = status_code
    delivery.last_error = error
    delivery.claimed_at = None
    if ok:
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif attempt >= destination.max_attempts:
        delivery.status = Delivery.Status.DEAD
        delivery.next_attempt_at = None
        log.warning("webhook delivery %s dead-lettered after %s attempts: %s", delivery.pk, attempt, error)
    else:
        delivery.status = Delivery.Status.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(attempt))
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        delivery.save(
            update_fields=[
                "attempts",
                "total_attempts",
                "last_status_code",
                "last_error",
                "claimed_at",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return delivery


def due_delivery_ids(*, now: datetime | None = None, limit: int = 500) -> list:
    """Deliveries whose (next) attempt is due, oldest first; releases claims of senders that died."""
    now = now or timezone.now()
    Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Delivery.Status.RETRYING, claimed_at=None, next_attempt_at=now
    )
    return list(
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.RETRYING),
            next_attempt_at__lte=now,
            destination__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
