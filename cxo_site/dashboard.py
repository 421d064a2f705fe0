"""Read-side queries for the home dashboard: set-based aggregates over profiles and events."""

from datetime import datetime, time, timedelta

from django.db.models import Count, FloatField, Max, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from profiles.models import Event, Profile

CHANNEL_COLOURS = {
    "web": "c1",
    "app": "c2",
    "store": "c3",
    "call_center": "c4",
    "email": "c5",
    "server": "c6",
}


def live_counts() -> dict:
    start = datetime.combine(timezone.localdate(), time.min, tzinfo=timezone.get_current_timezone())
    totals = Profile.objects.aggregate(profiles=Count("id"), known=Count("id", filter=Q(is_known=True)))
    known_share = totals["known"] / totals["profiles"] if totals["profiles"] else 0
    return {
        "events_today": Event.objects.filter(timestamp__gte=start).count(),
        "profiles": totals["profiles"],
        "known": totals["known"],
        "anonymous": totals["profiles"] - totals["known"],
        "known_share": known_share,
    }


def _revenue():
    return Cast(KeyTextTransform("revenue", "properties"), FloatField())


def revenue(*, days: int = 30) -> dict:
    orders = Event.objects.filter(type="track", event="Order Completed")
    latest = Event.objects.aggregate(latest=Max("timestamp"))["latest"]
    recent = orders.filter(timestamp__gte=latest - timedelta(days=days)) if latest else orders.none()
    return {
        "total": orders.aggregate(v=Sum(_revenue()))["v"] or 0,
        "recent": recent.aggregate(v=Sum(_revenue()))["v"] or 0,
        "orders": orders.count(),
        "days": days,
    }


def top_campaigns(*, limit: int = 8) -> list[dict]:
    campaign = KeyTextTransform("name", KeyTransform("campaign", "context"))
    return list(
        Event.objects.annotate(campaign=campaign)
        .exclude(campaign=None)
        .values("campaign")
        .annotate(
            events=Count("id"),
            orders=Count("id", filter=_is_order()),
            revenue=Sum(_revenue(), filter=_is_order()),
        )
        .order_by("-events")[:limit]
    )


def _is_order() -> Q:
    return Q(type="track", event="Order Completed")


def events_by_channel(*, days: int = 30, width: int = 640, height: int = 180) -> dict:
    """Daily event counts per channel over the last ``days`` days of data, laid out as SVG polylines."""
    latest = Event.objects.aggregate(latest=Max("timestamp"))["latest"]
    if latest is None:
        return {"series": [], "days": []}
    end = latest.date()
    start = end - timedelta(days=days - 1)
    rows = (
        Event.objects.filter(timestamp__date__gte=start)
        .annotate(day=TruncDate("timestamp"))
        .values("day", "channel")
        .annotate(n=Count("id"))
    )
    counts: dict[str, dict] = {}
    for row in rows:
        counts.setdefault(row["channel"] or "other", {})[row["day"]] = row["n"]
    day_list = [start + timedelta(days=i) for i in range(days)]
    peak = max((n for per_day in counts.values() for n in per_day.values()), default=1)
    step = width / max(days - 1, 1)
    series = []
    for channel in sorted(counts):
        values = [counts[channel].get(day, 0) for day in day_list]
        points = " ".join(
            f"{i * step:.1f},{height - (v / peak) * (height - 10):.1f}" for i, v in enumerate(values)
        )
        series.append(
            {
                "channel": channel,
                "points": points,
                "total": sum(values),
                "colour": CHANNEL_COLOURS.get(channel, "c6"),
            }
        )
    return {
        "series": series,
        "days": day_list,
        "peak": peak,
        "width": width,
        "height": height,
        "start": start,
        "end": end,
    }
