"""Activation: send an audience's members to webhooks (streaming) and CSV files (scheduled).

``connect()`` wires the receivers; ``SegmentsConfig.ready()`` calls it.
"""


def connect() -> None:
    """Subscribe destinations to ``segments.signals.membership_changed``.

    A signal, not a direct call: evaluation (batch, streaming, on demand, lists)
    announces changes in one place and need not know who acts on them.
    """
    from segments.destinations import tasks  # noqa: F401  (registers the tasks in the worker)
    from segments.destinations.signals import on_membership_changed
    from segments.signals import membership_changed

    membership_changed.connect(on_membership_changed, dispatch_uid="segments.destinations.membership_changed")
