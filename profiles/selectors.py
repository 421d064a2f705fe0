"""Read-side queries of profiles, shared by the API and the console."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from cxo_site.errors import DomainError, NotFound
from profiles import identity as ids
from profiles.models import Event, Identity, Profile


def profile_lookup(*, namespace: str, value: str) -> Profile:
    if namespace not in ids.NAMESPACES:
        raise DomainError(f"namespace must be one of {', '.join(ids.NAMESPACES)}", field="namespace")
    normalized = ids.normalize(namespace, value)
    if not normalized:
        raise DomainError("value is required and must be a valid identifier", field="value")
    found = (
        Identity.objects.filter(namespace=namespace, value=normalized)
        .values_list("profile_id", flat=True)
        .first()
    )
    if found is None:
        raise NotFound("No profile has that identity.")
    return profile_detail(profile_id=found)


def profile_search(*, query: str) -> QuerySet[Profile]:
    """Profiles with an identity value or display name matching ``query``, most recently seen first."""
    qs = Profile.objects.all()
    query = query.strip()
    if query:
        values = {query, query.lower(), ids.normalize(ids.PHONE, query)} - {""}
        matches = Identity.objects.filter(profile=OuterRef("pk")).filter(
            Q(value__in=values) | Q(value__istartswith=query.lower())
        )
        qs = qs.filter(Q(Exists(matches)) | Q(display_name__icontains=query))
    return qs.order_by("-last_seen", "-id").prefetch_related("identities")


def profile_detail(*, profile_id: int) -> Profile:
    try:
        return Profile.objects.prefetch_related("identities").get(pk=profile_id)
    except Profile.DoesNotExist:
        raise NotFound("No profile with that id.") from None


def profile_events(*, profile: Profile) -> QuerySet[Event]:
    return Event.objects.filter(profile=profile).select_related("source").order_by("-timestamp", "-id")
