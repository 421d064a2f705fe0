"""Receivers of profiles' announcements: streaming qualification and merges."""

from collections import defaultdict


def on_events_processed(sender, *, events, **kwargs) -> None:
    from segments import services

    names: dict[int, set[str]] = defaultdict(set)
    for event in events:
        names[event.profile_id].add(event.event)
    services.evaluate_profiles_streaming(names_by_profile=dict(names))


def on_profiles_merged(sender, *, into_profile_id: int, merged_profile_ids, **kwargs) -> None:
    from segments import services

    # The surviving profile may now qualify (or not) through the merged history.
    services.evaluate_profiles_streaming(names_by_profile={into_profile_id: None})


def audiences_section(profile) -> list[dict]:
    from segments.models import Membership

    stays = Membership.objects.filter(profile=profile, exited_at=None).select_related("audience")
    return [
        {"id": m.audience_id, "name": m.audience.name, "entered_at": m.entered_at.isoformat()} for m in stays
    ]
