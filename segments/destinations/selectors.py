"""Read-side queries of destinations for the console."""

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from segments.destinations.models import Delivery, Destination, ExportRun


def _count(qs) -> Coalesce:
    counted = qs.order_by().values("destination").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def destination_list(*, audience_id: int | None = None) -> QuerySet[Destination]:
    """Destinations with their queue, failure counts and latest activity, in one query."""
    mine = {"destination": OuterRef("pk")}
    qs = Destination.objects.select_related("audience").annotate(
        waiting=_count(
            Delivery.objects.filter(
                **mine,
                status__in=[Delivery.Status.PENDING, Delivery.Status.RETRYING, Delivery.Status.SENDING],
            )
        ),
        dead=_count(Delivery.objects.filter(**mine, status=Delivery.Status.DEAD)),
        failed_runs=_count(ExportRun.objects.filter(**mine, status=ExportRun.Status.FAILED)),
        last_delivery_at=Subquery(
            Delivery.objects.filter(**mine).order_by("-created_at").values("created_at")[:1]
        ),
        last_run_at=Subquery(
            ExportRun.objects.filter(**mine).order_by("-started_at").values("started_at")[:1]
        ),
    )
    if audience_id is not None:
        qs = qs.filter(audience_id=audience_id)
    return qs.order_by("audience__name", "name", "pk")


def destination_deliveries(*, destination: Destination, failed_only: bool = False) -> QuerySet[Delivery]:
    qs = destination.deliveries.defer("body")
    if failed_only:
        qs = qs.filter(Q(status=Delivery.Status.DEAD) | Q(status=Delivery.Status.RETRYING))
    return qs.order_by("-created_at")


def destination_runs(*, destination: Destination) -> QuerySet[ExportRun]:
    return destination.export_runs.order_by("-started_at")
