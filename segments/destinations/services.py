"""Write-side use cases of destinations: create, pause, queue deliveries, test, redeliver, export."""

import json
import uuid
from datetime import datetime

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cxo_site.errors import Conflict, DomainError, NotFound
from segments.destinations.export import run_export  # noqa: F401  (a use case of this module too)
from segments.destinations.models import Delivery, Destination
from segments.destinations.payloads import chunks, profile_entry, profile_records

NAMESPACES = ("anonymous_id", "user_id", "email", "phone")


def _schedule_send(delivery_ids: list) -> None:
    from segments.destinations import tasks

    for delivery_id in delivery_ids:
        tasks.send_delivery.delay(str(delivery_id))


@transaction.atomic
def create_destination(
    *,
    audience_id: int,
    name: str,
    kind: str,
    created_by=None,
    url: str = "",
    secret: str = "",
    batch_size: int = 100,
    max_attempts: int = 8,
    interval_minutes: int = 1440,
    output_subdir: str = "",
    identity_namespaces: list[str] | None = None,
    trait_keys: list[str] | None = None,
) -> Destination:
    """A new destination of an audience; a webhook gets a random secret unless one is given."""
    audience_model = apps.get_model("segments", "Audience")
    if not audience_model.objects.filter(pk=audience_id).exists():
        raise NotFound("No such audience.", field="audience")
    if kind not in Destination.Kind.values:
        raise DomainError("Choose webhook or file_export.", field="kind")
    if kind == Destination.Kind.WEBHOOK and not url:
        raise DomainError("A webhook needs a URL.", field="url")
    unknown = sorted(set(identity_namespaces or []) - set(NAMESPACES))
    if unknown:
        raise DomainError(f"Unknown identity namespace: {', '.join(unknown)}.", field="identity_namespaces")
    destination = Destination(
        audience_id=audience_id,
        name=name,
        kind=kind,
        created_by=created_by,
        url=url if kind == Destination.Kind.WEBHOOK else "",
        batch_size=batch_size,
        max_attempts=max_attempts,
        interval_minutes=interval_minutes,
        output_subdir=output_subdir,
        identity_namespaces=list(identity_namespaces)
        if identity_namespaces is not None
        else ["user_id", "email"],
        trait_keys=list(trait_keys or []),
        next_run_at=timezone.now() if kind == Destination.Kind.FILE_EXPORT else None,
    )
    if secret:
        destination.secret = secret
    try:
        destination.full_clean(exclude=["audience", "created_by"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(" ".join(messages), field=None if field == "__all__" else field) from exc
    destination.save()
    return destination


def set_active(*, destination_id: int, is_active: bool) -> Destination:
    """Pause or resume a destination. Paused webhooks keep their queue and send it on resume."""
    updated = Destination.objects.filter(pk=destination_id).update(is_active=is_active)
    if not updated:
        raise NotFound("No such destination.")
    destination = Destination.objects.get(pk=destination_id)
    if is_active and destination.kind == Destination.Kind.WEBHOOK:
        waiting = destination.deliveries.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING],
            next_attempt_at__lte=timezone.now(),
        )
        _schedule_send(list(waiting.values_list("pk", flat=True)))
    return destination


def _delivery_body(
    delivery_id, audience: dict, entered: list, exited: list, sent_at: datetime, **extra
) -> str:
    body = {
        "delivery_id": str(delivery_id),
        "audience": audience,
        "entered": entered,
        "exited": exited,
        "sent_at": sent_at.isoformat().replace("+00:00", "Z"),
        **extra,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def queue_membership_change(
    *, audience_id: int, entered: list[int], exited: list[int], now: datetime | None = None
) -> list[Delivery]:
    """Turn a membership change into deliveries for each active webhook of the audience.

    Only profiles whose consent allows sharing are included; batches hold at most
    ``batch_size`` profiles (entered first, then exited). The body is fixed here,
    so every retry sends the same bytes. Sending starts after the commit.
    """
    now = now or timezone.now()
    destinations = list(
        Destination.objects.filter(audience_id=audience_id, kind=Destination.Kind.WEBHOOK, is_active=True)
        .select_related("audience")
        .order_by("pk")
    )
    if not destinations or not (entered or exited):
        return []
    records = profile_records([*entered, *exited])
    entered = [pk for pk in dict.fromkeys(entered) if pk in records]
    exited = [pk for pk in dict.fromkeys(exited) if pk in records and pk not in entered]
    if not entered and not exited:
        return []
    deliveries = []
    for destination in destinations:
        audience = {"id": destination.audience_id, "name": destination.audience.name}
        shape = {"namespaces": destination.identity_namespaces, "trait_keys": destination.trait_keys}
        changes = [("entered", pk) for pk in entered] + [("exited", pk) for pk in exited]
        for batch in chunks(changes, max(destination.batch_size, 1)):
            batch_entered = [
                profile_entry(pk, records[pk], **shape) for kind, pk in batch if kind == "entered"
            ]
            batch_exited = [profile_entry(pk, records[pk], **shape) for kind, pk in batch if kind == "exited"]
            delivery_id = uuid.uuid4()
            deliveries.append(
                Delivery(
                    id=delivery_id,
                    destination=destination,
                    body=_delivery_body(delivery_id, audience, batch_entered, batch_exited, now),
                    entered_count=len(batch_entered),
                    exited_count=len(batch_exited),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
    with transaction.atomic():
        Delivery.objects.bulk_create(deliveries, batch_size=500)
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: _schedule_send(ids))
    return deliveries


@transaction.atomic
def send_test(*, destination_id: int, now: datetime | None = None) -> Delivery:
    """Queue a signed test delivery with a made-up profile (``"test": true`` in the body)."""
    now = now or timezone.now()
    destination = Destination.objects.select_related("audience").filter(pk=destination_id).first()
    if destination is None:
        raise NotFound("No such destination.")
    if destination.kind != Destination.Kind.WEBHOOK:
        raise Conflict("Only a webhook can be sent a test.", code="not_a_webhook")
    if not destination.is_active:
        raise Conflict("Resume the destination before sending a test.", code="destination_paused")
    sample = {
        "profile_id": 0,
        "identities": {"email": ["test@example.com"]},
        "traits": {"name": "Test Profile"},
    }
    delivery_id = uuid.uuid4()
    audience = {"id": destination.audience_id, "name": destination.audience.name}
    delivery = Delivery.objects.create(
        id=delivery_id,
        destination=destination,
        body=_delivery_body(delivery_id, audience, [sample], [], now, test=True),
        entered_count=1,
        is_test=True,
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(lambda: _schedule_send([delivery_id]))
    return delivery


@transaction.atomic
def redeliver(*, delivery_id, now: datetime | None = None) -> Delivery:
    """Give a dead-lettered delivery a fresh set of attempts: same id, same body."""
    now = now or timezone.now()
    updated = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.DEAD).update(
        status=Delivery.Status.RETRYING, attempts=0, next_attempt_at=now
    )
    if not updated:
        if not Delivery.objects.filter(pk=delivery_id).exists():
            raise NotFound("No such delivery.")
        raise Conflict("Only a dead-lettered delivery can be redelivered.", code="not_dead")
    transaction.on_commit(lambda: _schedule_send([delivery_id]))
    return Delivery.objects.get(pk=delivery_id)


def start_export(*, destination_id: int) -> None:
    """Run a file export now (the console's "Run now"), in the worker when there is one."""
    from segments.destinations import tasks

    if not Destination.objects.filter(pk=destination_id, kind=Destination.Kind.FILE_EXPORT).exists():
        raise Conflict("Only a file export can be run.", code="not_a_file_export")
    tasks.run_export.delay(destination_id, "manual")


def forget_profile(*, profile_id: int) -> int:
    """GDPR erasure: remove a profile from every stored delivery body; returns how many bodies changed.

    A queued delivery then sends the others in its batch (re-signed, same id); a
    batch left empty is not sent. CSV files already written are not touched.
    """
    marker = f'"profile_id":{int(profile_id)},'
    changed = 0
    with transaction.atomic():
        for delivery in Delivery.objects.select_for_update().filter(body__contains=marker):
            body = json.loads(delivery.body)
            for key in ("entered", "exited"):
                body[key] = [entry for entry in body.get(key, []) if entry.get("profile_id") != profile_id]
            delivery.body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            delivery.entered_count, delivery.exited_count = len(body["entered"]), len(body["exited"])
            fields = ["body", "entered_count", "exited_count"]
            if not (body["entered"] or body["exited"]) and delivery.status != Delivery.Status.DELIVERED:
                delivery.status, delivery.next_attempt_at = Delivery.Status.DEAD, None
                delivery.last_error = "Emptied by an erasure request; not sent."
                fields += ["status", "next_attempt_at", "last_error"]
            delivery.save(update_fields=fields)
            changed += 1
    return changed
