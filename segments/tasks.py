"""Celery tasks of the segments app: thin wrappers over services."""

from celery import shared_task
from django.db import OperationalError


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def evaluate_audience(self, audience_id: int, evaluation_id: int | None = None) -> dict:
    from segments import services

    return services.evaluate_audience(audience_id=audience_id, evaluation_id=evaluation_id)


@shared_task
def evaluate_time_dependent_audiences() -> int:
    """Beat: re-evaluate audiences whose rules depend on the clock ("no purchase in 60 days")."""
    from segments import rules, services
    from segments.models import Audience

    count = 0
    for audience in Audience.objects.filter(kind=Audience.Kind.RULE, is_active=True):
        if rules.is_time_dependent(audience.rule):
            services.start_evaluation(audience=audience)
            count += 1
    return count
