"""Celery tasks of destinations: thin wrappers over the services, taking ids."""

from celery import shared_task
from django.db import OperationalError

from cxo_site.celery import app


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def queue_deliveries(audience_id: int, entered: list[int], exited: list[int]) -> int:
    """Turn one membership change into webhook deliveries; returns how many were queued."""
    from segments.destinations import services

    return len(services.queue_membership_change(audience_id=audience_id, entered=entered, exited=exited))


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def send_delivery(delivery_id: str) -> str | None:
    """One attempt at a due delivery (a no-op when it is not due or already taken).

    With a worker, a failed attempt schedules the next one at its back-off time;
    the beat sweep (``retry_due_deliveries``) catches any that got lost.
    """
    from segments.destinations import delivery

    result = delivery.send_delivery(delivery_id=delivery_id)
    if result is None:
        return None
    if result.status == result.Status.RETRYING and not app.conf.task_always_eager:
        send_delivery.apply_async((delivery_id,), countdown=delivery.backoff_seconds(result.attempts))
    return result.status


@shared_task(acks_late=True)
def retry_due_deliveries() -> int:
    """Beat: send every delivery whose (next) attempt is due."""
    from segments.destinations import delivery

    due = delivery.due_delivery_ids()
    for delivery_id in due:
        send_delivery.delay(str(delivery_id))
    return len(due)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def run_export(destination_id: int, trigger: str = "schedule") -> str:
    """Write one file export; returns the run's status."""
    from segments.destinations import export

    return export.run_export(destination_id=destination_id, trigger=trigger).status


@shared_task(acks_late=True)
def run_due_exports() -> int:
    """Beat: start every file export whose interval has passed."""
    from segments.destinations import export

    due = export.claim_due_exports()
    for destination_id in due:
        run_export.delay(destination_id, "schedule")
    return len(due)
