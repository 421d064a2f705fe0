"""Receivers: destinations listen to the audiences' membership changes."""

from segments.destinations.models import Destination


def on_membership_changed(
    sender, *, audience_id: int, entered: list, exited: list, how: str = "", **kwargs
) -> None:
    """Queue webhook deliveries for a change, in a task of its own so evaluation is not slowed.

    The signal is sent after the membership change has committed. One cheap query
    decides whether the audience has an active webhook at all.
    """
    if not (entered or exited):
        return
    has_webhook = Destination.objects.filter(
        audience_id=audience_id, kind=Destination.Kind.WEBHOOK, is_active=True
    ).exists()
    if not has_webhook:
        return
    from segments.destinations import tasks

    tasks.queue_deliveries.delay(audience_id, [int(pk) for pk in entered], [int(pk) for pk in exited])


def on_profile_erased(sender, *, profile_id: int, **kwargs) -> None:
    """Erasure reaches the delivery log too: the profile is cut out of every stored body."""
    from segments.destinations import services

    services.forget_profile(profile_id=profile_id)
