"""Write-side use cases for sources and their write keys."""

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from cxo_site.errors import Conflict
from profiles.models import Source, default_source_consent, new_write_key

WRITE_KEY_CACHE = "cxo:write-key:{}"


@transaction.atomic
def create_source(*, name: str, default_consent: dict | None = None) -> Source:
    name = name.strip()
    if Source.objects.filter(name__iexact=name).exists():
        raise Conflict(f"A source named '{name}' already exists.", field="name", code="source_exists")
    source = Source(name=name, default_consent={**default_source_consent(), **(default_consent or {})})
    source.full_clean()
    try:
        source.save()
    except IntegrityError as error:
        raise Conflict(
            f"A source named '{name}' already exists.", field="name", code="source_exists"
        ) from error
    return source


@transaction.atomic
def rotate_write_key(*, source: Source) -> Source:
    """Give the source a new write key; the old one stops working at once."""
    old = source.write_key
    source.write_key = new_write_key()
    source.write_key_rotated_at = timezone.now()
    source.save(update_fields=["write_key", "write_key_rotated_at"])
    transaction.on_commit(lambda: cache.delete(WRITE_KEY_CACHE.format(old)))
    cache.delete(WRITE_KEY_CACHE.format(old))
    return source


def source_for_write_key(write_key: str) -> dict | None:
    """``{"id", "rate_limit"}`` of the active source with this key (cached for a minute), or None."""
    if not write_key or len(write_key) > 64:
        return None
    key = WRITE_KEY_CACHE.format(write_key)
    found = cache.get(key)
    if found is None:
        row = Source.objects.filter(write_key=write_key, is_active=True).values("id", "rate_limit").first()
        found = row or {}
        cache.set(key, found, 60)
    return found or None
