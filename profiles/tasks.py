"""Celery tasks of the profiles app: thin wrappers over services."""

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from cxo_site.celery import app

# Set while a processing run is queued but has not started: requests that commit
# meanwhile need not queue another, because that run will see their rows.
SCHEDULED_KEY = "cxo:processing-scheduled"


def schedule_processing() -> None:
    """Queue processing of pending raw events. Call it from ``transaction.on_commit``.

    In production at most one run is queued at a time: the run clears the flag
    when it starts, so a commit after that queues the next one, and a commit
    before it is drained by it. The beat sweep recovers a lost run.
    """
    if app.conf.task_always_eager or cache.add(SCHEDULED_KEY, 1, timeout=60):
        process_pending_events.delay()


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def process_pending_events(self) -> int:
    """Process every pending raw event into profiles; returns how many were processed."""
    from profiles import processing

    cache.delete(SCHEDULED_KEY)
    return processing.process_pending()
