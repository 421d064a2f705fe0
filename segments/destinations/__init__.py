"""Activation: send an audience's members to webhooks (streaming) and CSV files (scheduled).

``connect()`` wires the receivers; ``SegmentsConfig.ready()`` calls it.
"""


def connect() -> None:
    """Subscribe destinations to ``membership_changed`` (and ``profile_erased``).

    A signal, not a direct call: evaluation (batch, streaming, on demand, lists)
    announces changes in one place and need not know who acts on them.
    """
    from profiles.signals import profile_erased
    from segments.destinations import tasks  # noqa: F401  (registers the tasks in the worker)
    from segments.destinations.signals import on_membership_changed, on_profile_erased
    from segments.signals import membership_changed

    membership_changed.connect(on_membership_changed, dispatch_uid="segments.destinations.membership_changed")
    # Erasure must also reach the stored webhook bodies (they hold identities and traits).
    profile_erased.connect(on_profile_erased, dispatch_uid="segments.destinations.profile_erased")
