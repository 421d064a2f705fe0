"""Identity normalization and resolution.

The identity graph has four namespaces: ``anonymous_id``, ``user_id``, ``email`` and ``phone``.
:class:`Resolver` decides, message by message and entirely in memory, which profile each message
belongs to and which profiles merge; ``profiles.processing`` loads what it needs beforehand and writes
the outcome in bulk afterwards.

The rules:
- anonymous events build an anonymous profile;
- identify/alias links an anonymous id to a known profile and merges the anonymous profile into it;
- two profiles that hold different ``user_id`` values never merge. On a shared device the anonymous id
  follows the latest sign-in and earlier events stay with their owner;
- an email or phone already held by another known person stays with its first owner (a conflict is
  logged, nothing merges).
"""

import logging
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

ANONYMOUS_ID, USER_ID, EMAIL, PHONE = "anonymous_id", "user_id", "email", "phone"
NAMESPACES = (ANONYMOUS_ID, USER_ID, EMAIL, PHONE)
MAX_VALUE_LENGTH = 255


def normalize(namespace: str, value) -> str:
    """The stored form of an identifier: emails lower-cased, phones as ``+digits``; '' if unusable."""
    if value is None or isinstance(value, bool):
        return ""
    text = str(value).strip()
    if namespace == EMAIL:
        text = text.lower()
        if "@" not in text:
            return ""
    elif namespace == PHONE:
        plus = text.startswith("+") or text.startswith("00")
        digits = re.sub(r"\D", "", text)
        if text.startswith("00"):
            digits = digits[2:]
        if len(digits) < 6:
            return ""
        # Numbers with a country code become E.164; national numbers are kept as digits.
        text = f"+{digits}" if plus else digits
    return text[:MAX_VALUE_LENGTH]


@dataclass
class Merge:
    merged: int  # profile key that disappears
    into: int
    reason: str


@dataclass
class Resolver:
    """In-memory identity graph for one processing batch.

    Profile keys are database ids for existing profiles and negative numbers for profiles this batch
    creates. ``identities`` maps (namespace, value) to a profile key; ``user_of`` maps a profile key to
    its user_id (None for profiles without one).
    """

    identities: dict[tuple[str, str], int]
    user_of: dict[int, str | None]
    new_profiles: list[int] = field(default_factory=list)
    new_identities: dict[tuple[str, str], int] = field(default_factory=dict)
    moved_identities: dict[tuple[str, str], int] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)
    redirect: dict[int, int] = field(default_factory=dict)
    conflicts: int = 0

    def find(self, key: int | None) -> int | None:
        while key in self.redirect:
            key = self.redirect[key]
        return key

    def lookup(self, namespace: str, value: str) -> int | None:
        return self.find(self.identities.get((namespace, value))) if value else None

    def _new_profile(self) -> int:
        key = -(len(self.new_profiles) + 1)
        self.new_profiles.append(key)
        self.user_of[key] = None
        return key

    def _link(self, namespace: str, value: str, key: int) -> None:
        current = self.identities.get((namespace, value))
        self.identities[(namespace, value)] = key
        if current is None or (namespace, value) in self.new_identities:
            self.new_identities[(namespace, value)] = key
        else:
            self.moved_identities[(namespace, value)] = key

    def _merge(self, merged: int, into: int, reason: str) -> None:
        """Fold profile ``merged`` (which holds no user_id of its own) into ``into``."""
        self.redirect[merged] = into
        self.merges.append(Merge(merged=merged, into=into, reason=reason))
        for ident, key in list(self.identities.items()):
            if key == merged:
                self._link(*ident, into)

    def _attach(self, namespace: str, value: str, target: int, reason: str) -> int:
        """Give ``target`` the identifier, merging an anonymous holder in; returns the surviving key."""
        if not value:
            return target
        holder = self.lookup(namespace, value)
        if holder is None:
            self._link(namespace, value, target)
        elif holder != target:
            holder_user, target_user = self.user_of.get(holder), self.user_of.get(target)
            if holder_user is None:
                self._merge(holder, target, reason)
            elif target_user is None:
                self._merge(target, holder, reason)
                return holder
            elif namespace == ANONYMOUS_ID:
                # Shared device: the anonymous id follows the latest sign-in.
                self._link(namespace, value, target)
            else:
                self.conflicts += 1
                logger.info("identity conflict: %s already belongs to another known profile", namespace)
        return target

    def resolve(
        self,
        *,
        type: str,
        anonymous_id: str,
        user_id: str,
        previous_id: str = "",
        email: str = "",
        phone: str = "",
    ) -> int:
        """The profile key a message belongs to, after applying its identity links."""
        reason = "alias" if type == "alias" else "identify"
        if user_id:
            target = self.lookup(USER_ID, user_id)
            if target is None:
                # A new user id: adopt the profile its email, phone or anonymous id points to, if unclaimed.
                for namespace, value in ((EMAIL, email), (PHONE, phone), (ANONYMOUS_ID, anonymous_id)):
                    candidate = self.lookup(namespace, value)
                    if candidate is not None and self.user_of.get(candidate) is None:
                        target = candidate
                        break
                else:
                    target = self._new_profile()
                self._link(USER_ID, user_id, target)
                self.user_of[target] = user_id
            target = self._attach(ANONYMOUS_ID, anonymous_id, target, reason)
            if type == "alias" and previous_id:
                previous = self.lookup(USER_ID, previous_id)
                if previous is not None and previous != target:
                    if self.user_of.get(previous) is None:
                        self._merge(previous, target, reason)
                    else:
                        self.conflicts += 1
                else:
                    target = self._attach(ANONYMOUS_ID, previous_id, target, reason)
        else:
            target = self.lookup(ANONYMOUS_ID, anonymous_id)
            if target is None:
                target = self.lookup(EMAIL, email) or self.lookup(PHONE, phone) or self._new_profile()
                self._link(ANONYMOUS_ID, anonymous_id, target)
        target = self._attach(EMAIL, email, target, reason)
        target = self._attach(PHONE, phone, target, reason)
        return self.find(target)
