"""Per-source rate limiting: a one-second window counted in the cache (locmem or Redis)."""

import time

from django.conf import settings
from django.core.cache import cache


def allow(*, source_id: int, limit: int, count: int) -> bool:
    """Count ``count`` events against this second's budget; False when the budget is exceeded."""
    limit = limit or settings.CXO_DEFAULT_RATE_LIMIT
    key = f"cxo:rate:{source_id}:{int(time.time())}"
    cache.add(key, 0, timeout=2)
    try:
        used = cache.incr(key, count)
    except ValueError:  # the key expired between add and incr
        cache.set(key, count, timeout=2)
        used = count
    return used <= limit
