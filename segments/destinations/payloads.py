"""What a destination is allowed to see of a profile, read set-based.

Sharing needs consent: a profile is sent only when its latest ``share`` statement
is a grant (``Profile.consent == {"share": {"granted": true, ...}}``). A profile
that never stated ``share`` is *not* sent: a profile has no single source whose
``default_consent`` could speak for it, and every source's default for ``share``
is "no" (docs/destinations.md).
"""

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from profiles.models import Identity, Profile

FETCH_CHUNK = 1000  # ids per query: stays below SQLite's bound-parameter limit


def shareable(profiles: QuerySet[Profile]) -> QuerySet[Profile]:
    """``profiles`` narrowed to those whose consent allows sharing with destinations."""
    return profiles.filter(consent__share__granted=True)


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def identities_by_profile(
    profile_ids: Iterable[int], namespaces: list[str]
) -> dict[int, dict[str, list[str]]]:
    """``{profile_id: {namespace: [values, ...]}}`` for the given namespaces, in one query."""
    result: dict[int, dict[str, list[str]]] = {}
    rows = (
        Identity.objects.filter(profile_id__in=list(profile_ids), namespace__in=namespaces)
        .order_by("profile_id", "namespace", "value")
        .values_list("profile_id", "namespace", "value")
    )
    for profile_id, namespace, value in rows:
        result.setdefault(profile_id, {}).setdefault(namespace, []).append(value)
    return result


def profile_records(profile_ids: list[int]) -> dict[int, dict]:
    """Shareable profiles among ``profile_ids``: ``{id: {"traits": ..., "identities": {ns: [..]}}}``.

    Two queries per thousand ids (profiles, identities in every namespace);
    profiles without share consent, or no longer existing, are absent.
    """
    records: dict[int, dict] = {}
    namespaces = list(Identity.Namespace.values)
    for chunk in chunks(list(dict.fromkeys(profile_ids)), FETCH_CHUNK):
        found = shareable(Profile.objects.filter(pk__in=chunk)).values_list("pk", "traits")
        for pk, traits in found:
            records[pk] = {"traits": traits if isinstance(traits, dict) else {}, "identities": {}}
        for pk, identities in identities_by_profile(records.keys() & set(chunk), namespaces).items():
            records[pk]["identities"] = identities
    return records


def profile_entry(profile_id: int, record: dict, *, namespaces: list[str], trait_keys: list[str]) -> dict:
    """One profile as a webhook sends it: chosen identities, chosen traits (all when none chosen)."""
    identities = {ns: record["identities"][ns] for ns in namespaces if ns in record["identities"]}
    traits = record["traits"]
    if trait_keys:
        traits = {key: traits[key] for key in trait_keys if key in traits}
    return {"profile_id": profile_id, "identities": identities, "traits": traits}
