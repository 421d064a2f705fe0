"""Read-side queries of audiences."""

from django.db.models import Q, QuerySet

from profiles.models import Profile
from segments.models import Audience, Membership


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
