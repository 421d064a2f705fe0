"""What audiences announce to later parts (destinations, journeys).

``membership_changed`` is sent after the change has committed, once per audience and evaluation:
kwargs ``audience_id``, ``entered`` and ``exited`` (lists of profile ids) and ``how``.
"""

from django.dispatch import Signal

membership_changed = Signal()
