"""compile_rule(): a rule tree -> one Q over Profile (EXISTS and aggregate subqueries over Event).

Every leaf compiles to an expression that is TRUE or FALSE, never NULL, so
``and``/``or``/``not`` follow two-valued logic and ``not`` means "the opposite"
on both databases. Field names and operators come from whitelists; values
are parameters (see ``sql.py``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache, reduce
from operator import and_, or_
from typing import TYPE_CHECKING

from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone

from .dates import parse_date, window_end
from .errors import RuleError
from .scores import score_provider
from .sql import JSONCondition, JSONNumber
from .validation import validate

if TYPE_CHECKING:
    from profiles.models import Profile

# The models are imported where used, so this package imports before the app registry is ready.

LOOKUPS = {
    "equals": Exact,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}
LOOKUP_NAMES = {"equals": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
COUNT_LOOKUP_NAMES = {"at_least": "gte", "at_most": "lte", "exactly": "exact"}


@lru_cache(maxsize=512)
def _check(canonical: str) -> None:
    validate(json.loads(canonical), check_references=False)


def ensure_valid(rule: dict) -> None:
    """validate() without the database look-ups, cached per distinct rule (the streaming path)."""
    try:
        canonical = json.dumps(rule, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise RuleError([{"path": "", "message": f"a rule must be JSON: {exc}"}]) from exc
    _check(canonical)


def compile_rule(rule: dict, *, now: datetime | None = None) -> Q:
    """A Q over ``profiles.Profile``: ``Profile.objects.filter(compile_rule(rule))``.

    ``now`` fixes the evaluation time of relative windows (default: the current time).
    Raises RuleError for an invalid rule.
    """
    return _compile(rule, now=now, profile_pk=None)


def _compile(rule: dict, *, now: datetime | None, profile_pk: int | None) -> Q:
    ensure_valid(rule)
    now = now or timezone.now()
    if timezone.is_naive(now):
        now = now.replace(tzinfo=UTC)
    return _Compiler(now, profile_pk).node(rule)


def matching_profiles(rule: dict, *, now: datetime | None = None) -> QuerySet[Profile]:
    """Every profile the rule selects, as one query."""
    from profiles.models import Profile

    return Profile.objects.filter(compile_rule(rule, now=now))


def evaluate(rule: dict, profile: Profile | int, *, now: datetime | None = None) -> bool:
    """Whether one profile matches: the same compiled query, restricted to that profile."""
    from profiles.models import Profile

    pk = profile.pk if isinstance(profile, Profile) else int(profile)
    # The scope only narrows the grouped subqueries to this profile's events; the meaning is unchanged.
    return Profile.objects.filter(pk=pk).filter(_compile(rule, now=now, profile_pk=pk)).exists()


def _not_null_and(expression, lookup) -> Q:
    """``lookup`` that is FALSE (not NULL) where ``expression`` is NULL."""
    return Q(IsNull(expression, False)) & Q(lookup)


def _compare(left: float, op: str, right: float) -> bool:
    """The comparison in Python, for people with no matching events (count 0, sum 0)."""
    return {
        "at_least": left >= right,
        "at_most": left <= right,
        "exactly": left == right,
        "equals": left == right,
        "gt": left > right,
        "gte": left >= right,
        "lt": left < right,
        "lte": left <= right,
    }[op]


class _Compiler:
    def __init__(self, now: datetime, profile_pk: int | None = None):
        self.now = now
        self.profile_pk = profile_pk  # evaluate(): keep every subquery to this one profile

    def node(self, node: dict) -> Q:
        return getattr(self, f"_{node['type']}")(node)

    # --- boolean structure ---------------------------------------------------------------
    def _and(self, node: dict) -> Q:
        return reduce(and_, (self.node(child) for child in node["conditions"]))

    def _or(self, node: dict) -> Q:
        return reduce(or_, (self.node(child) for child in node["conditions"]))

    def _not(self, node: dict) -> Q:
        return ~self.node(node["condition"])

    # --- profile state ---------------------------------------------------------------------
    def _trait(self, node: dict) -> Q:
        return Q(JSONCondition("traits", node["trait"], node["op"], node.get("value"), now=self.now))

    def _consent(self, node: dict) -> Q:
        granted, default = node["granted"], node.get("default", False)
        path = f"{node['purpose']}.granted"
        stated = JSONCondition("consent", path, "equals", granted, now=self.now)
        if default != granted:
            return Q(stated)
        stated_otherwise = JSONCondition("consent", path, "equals", not granted, now=self.now)
        return ~Q(stated_otherwise)  # stated as asked, or not stated at all

    def _score(self, node: dict) -> Q:
        factory = score_provider(node["model"])
        if factory is None:
            raise RuleError([{"path": "model", "message": f"no propensity model named {node['model']!r}"}])
        score = ExpressionWrapper(factory(node["model"]), output_field=FloatField())
        return _not_null_and(score, LOOKUPS[node["op"]](score, float(node["value"])))

    def _audience(self, node: dict) -> Q:
        try:
            from segments.models import Membership  # the audiences part of segments defines it
        except ImportError as exc:
            message = "audience conditions are not available yet"
            raise RuleError([{"path": "audience_id", "message": message}]) from exc

        current = Membership.objects.filter(
            audience_id=node["audience_id"], profile_id=OuterRef("pk"), exited_at__isnull=True
        )
        member = Q(Exists(current))
        return member if node.get("member", True) else ~member

    # --- events ----------------------------------------------------------------------------
    def _events(self, event: str, filters: list[dict], window: dict | None, profile_ref: str | None = "pk"):
        """Matching events: correlated on the outer ``profile_ref``, or (None) for every profile in scope."""
        from profiles.models import Event

        qs = Event.objects.filter(event=event)
        if profile_ref:
            qs = qs.filter(profile_id=OuterRef(profile_ref))
        elif self.profile_pk is not None:
            qs = qs.filter(profile_id=self.profile_pk)
        for flt in filters:
            qs = qs.filter(
                JSONCondition("properties", flt["property"], flt["op"], flt.get("value"), now=self.now)
            )
        if window and window["type"] == "last_days":
            qs = qs.filter(timestamp__gte=self.now - timedelta(days=window["days"]))
        elif window and window["type"] == "between":
            qs = qs.filter(timestamp__gte=parse_date(window["from"]), timestamp__lt=window_end(window["to"]))
        return qs.order_by()

    def _event(self, node: dict) -> Q:
        filters, window = node.get("filters", []), node.get("window")
        count, aggregate = node.get("count"), node.get("aggregate")
        if aggregate is None and (count is None or count == {"op": "at_least", "value": 1}):
            did = Q(Exists(self._events(node["event"], filters, window)))
        else:
            did = self._counted(
                self._events(node["event"], filters, window, profile_ref=None), count, aggregate
            )
        return did if node["op"] == "did" else ~did

    def _counted(self, events, count: dict | None, aggregate: dict | None) -> Q:
        """Counts and aggregates as one GROUP BY profile ... HAVING, not a subquery per profile.

        People without matching events are not in the grouped rows: whether they
        match (count 0, sum 0, no average) is known here and added separately.
        """
        count = count or {"op": "at_least", "value": 1}
        annotations = {"_n": Count("pk")}
        having = {f"_n__{COUNT_LOOKUP_NAMES[count['op']]}": count["value"]}
        zero_matches = _compare(0, count["op"], count["value"])
        if aggregate:
            amount = JSONNumber("properties", aggregate["property"])
            lookup, value = LOOKUP_NAMES[aggregate["op"]], float(aggregate["value"])
            if aggregate["fn"] == "sum":
                annotations["_a"] = Coalesce(Sum(amount), Value(0.0), output_field=FloatField())
                zero_matches = zero_matches and _compare(0.0, aggregate["op"], value)
            else:
                annotations["_a"] = Avg(amount, output_field=FloatField())
                having["_a__isnull"] = False
                zero_matches = False
            having[f"_a__{lookup}"] = value
        grouped = events.values("profile_id").annotate(**annotations).filter(**having).values("profile_id")
        selected = Q(pk__in=grouped)
        if zero_matches:
            selected |= ~Q(pk__in=events.values("profile_id"))
        return selected

    def _sequence(self, node: dict) -> Q:
        within = timedelta(days=node["within_days"])
        first = self._events(node["first"]["event"], node["first"].get("filters", []), node.get("window"))
        follow_up = self._events(
            node["then"]["event"], node["then"].get("filters", []), None, profile_ref="profile_id"
        ).filter(
            timestamp__gt=OuterRef("timestamp"),
            timestamp__lte=ExpressionWrapper(
                OuterRef("timestamp") + Value(within), output_field=DateTimeField()
            ),
        )
        if node["op"] == "did":
            return Q(Exists(first.filter(Exists(follow_up))))
        # Only a first event whose follow-up time is over can show that nothing followed.
        return Q(Exists(first.filter(timestamp__lte=self.now - within).filter(~Exists(follow_up))))
