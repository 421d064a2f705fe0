"""Read-side queries of audiences."""

from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from profiles.models import Profile
from segments.models import Audience, AudienceSizeSnapshot, Membership


def audience_list(*, search: str = "") -> QuerySet[Audience]:
    qs = Audience.objects.all()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return qs.order_by("name")


def audience_members(*, audience: Audience, search: str = "") -> QuerySet[Profile]:
    qs = Profile.objects.filter(memberships__audience=audience, memberships__exited_at=None)
    if search:
        qs = qs.filter(Q(identities__value__icontains=search) | Q(display_name__icontains=search)).distinct()
    return qs.order_by("-last_seen", "-id")


def recent_changes(*, audience: Audience, limit: int = 20) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(audience=audience).select_related("profile").order_by("-entered_at")[:limit]
    )


def entered_since(*, audience: Audience, days: int = 7) -> QuerySet[Membership]:
    """Stays that began in the last ``days`` days (whether or not they have ended), newest first."""
    since = timezone.now() - timedelta(days=days)
    return (
        Membership.objects.filter(audience=audience, entered_at__gte=since)
        .select_related("profile")
        .order_by("-entered_at", "-id")
    )


def size_trend(*, audience: Audience, points: int = 30) -> list[int]:
    """The sizes at the last ``points`` evaluations, oldest first."""
    return size_trends([audience], points=points)[audience.pk]


def size_trends(audiences, *, points: int = 30) -> dict[int, list[int]]:
    """Audience id → its last ``points`` sizes, oldest first, for a page of audiences in one query."""
    ids = [a.pk for a in audiences]
    newest_first = Window(
        RowNumber(), partition_by=[F("audience_id")], order_by=[F("at").desc(), F("id").desc()]
    )
    rows = (
        AudienceSizeSnapshot.objects.filter(audience_id__in=ids)
        .annotate(n=newest_first)
        .filter(n__lte=points)
        .order_by("audience_id", "at", "id")
        .values_list("audience_id", "size")
    )
    trends: dict[int, list[int]] = {pk: [] for pk in ids}
    for audience_id, size in rows:
        trends[audience_id].append(size)
    return trends


def overlap(*, first: Audience, second: Audience) -> dict:
    """Current members in both, in only one, and the Jaccard index, counted by the database."""
    in_first = Membership.objects.filter(audience=first, exited_at=None)
    in_second = Membership.objects.filter(audience=second, exited_at=None)
    both = in_first.filter(Exists(in_second.filter(profile_id=OuterRef("profile_id")))).count()
    size_first, size_second = in_first.count(), in_second.count()
    union = size_first + size_second - both
    return {
        "first": size_first,
        "second": size_second,
        "both": both,
        "first_only": size_first - both,
        "second_only": size_second - both,
        "union": union,
        "jaccard": both / union if union else 0.0,
    }


def members_of_both(*, first: Audience, second: Audience) -> QuerySet[Profile]:
    return audience_members(audience=first).filter(
        Exists(Membership.objects.filter(audience=second, exited_at=None, profile_id=OuterRef("pk")))
    )
