"""What the profiles app announces to later apps (segments, offers, journeys).

``events_processed`` fires once per processed batch, after its transaction has
committed, with the stored events in processing order. Later apps subscribe
in their ``AppConfig.ready()`` (streaming audience qualification, journey
triggers, offer capping). ``profiles_merged`` fires when an anonymous profile
was folded into another, so that memberships can be re-evaluated.
"""

from django.dispatch import Signal

# kwargs: events: list[profiles.messages.StoredEvent] (an Event's fields, as a named tuple)
events_processed = Signal()
# kwargs: into_profile_id: int, merged_profile_ids: list[int]
profiles_merged = Signal()
# kwargs: profile_id: int  (sent before the rows are removed)
profile_erased = Signal()
