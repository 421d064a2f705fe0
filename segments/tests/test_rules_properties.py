"""Random rules over random events: the compiled SQL selects what a plain-Python reading of the rules selects.

The reference evaluator below is written from docs/rules.md, not from the
compiler: it walks the same profiles and events in Python.
"""

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from profiles.models import Profile
from segments import rules
from segments.rules.sql import JSONNumber
from tests.factories import EventFactory, ProfileFactory, SourceFactory

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MISSING = object()
EVENT_NAMES = ["Product Viewed", "Order Completed", "Cart Viewed"]


# --- the reference evaluator -------------------------------------------------------------

ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5]):\d{2})?)?", re.ASCII
)


def ref_date(value):
    if not isinstance(value, str) or not ISO.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.year < 1000:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rule_date(value: str, *, end: bool = False) -> datetime:
    moment = ref_date(value)
    return moment + timedelta(days=1) if end and len(value) == 10 else moment


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def get(obj, keys):
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            return MISSING
        obj = obj[key]
    return obj


def equals(actual, expected) -> bool:
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual == expected
    if is_number(expected):
        return is_number(actual) and actual == expected
    return isinstance(actual, str) and actual == expected


def compare(actual, op: str, value) -> bool:
    if op == "exists":
        return actual is not MISSING and actual is not None
    if op == "not_exists":
        return actual is MISSING or actual is None
    if op == "equals":
        return equals(actual, value)
    if op == "not_equals":
        return not equals(actual, value)
    if op == "in":
        return any(equals(actual, v) for v in value)
    if op == "contains":
        return isinstance(actual, str) and value.lower() in actual.lower()
    if op == "starts_with":
        return isinstance(actual, str) and actual.lower().startswith(value.lower())
    if op in ("gt", "gte", "lt", "lte"):
        if not is_number(actual):
            return False
        return {"gt": actual > value, "gte": actual >= value, "lt": actual < value, "lte": actual <= value}[
            op
        ]
    moment = ref_date(actual)
    if moment is None:
        return False
    if op == "before":
        return moment < rule_date(value)
    if op == "after":
        return moment > rule_date(value)
    if op == "within_last_days":
        return NOW - timedelta(days=value) <= moment <= NOW
    raise AssertionError(op)


def holds(document: dict, path: str, op: str, value) -> bool:
    if "[]" in path:
        before, _, after = path.partition("[]")
        items = get(document, before.split("."))
        if not isinstance(items, list):
            return False
        inner = after.removeprefix(".").split(".") if after else []
        return any(compare(get(item, inner), op, value) for item in items)
    return compare(get(document, path.split(".")), op, value)


def in_window(moment: datetime, window) -> bool:
    if not window or window["type"] == "ever":
        return True
    if window["type"] == "last_days":
        return moment >= NOW - timedelta(days=window["days"])
    return rule_date(window["from"]) <= moment < rule_date(window["to"], end=True)


def matched(events, name, filters, window):
    return [
        e
        for e in events
        if e["event"] == name
        and all(holds(e["properties"], f["property"], f["op"], f.get("value")) for f in filters)
        and in_window(e["timestamp"], window)
    ]


def reference(rule: dict, person: dict, events: list[dict]) -> bool:
    kind = rule["type"]
    if kind == "and":
        return all(reference(c, person, events) for c in rule["conditions"])
    if kind == "or":
        return any(reference(c, person, events) for c in rule["conditions"])
    if kind == "not":
        return not reference(rule["condition"], person, events)
    if kind == "trait":
        return holds(person["traits"], rule["trait"], rule["op"], rule.get("value"))
    if kind == "consent":
        stated = get(person["consent"], [rule["purpose"], "granted"])
        state = stated if isinstance(stated, bool) else rule.get("default", False)
        return state == rule["granted"]
    if kind == "score":
        points = person["traits"].get("points")
        return is_number(points) and compare(points, rule["op"], rule["value"])
    if kind == "event":
        found = matched(events, rule["event"], rule.get("filters", []), rule.get("window"))
        count = rule.get("count", {"op": "at_least", "value": 1})
        n = len(found)
        ok = {
            "at_least": n >= count["value"],
            "at_most": n <= count["value"],
            "exactly": n == count["value"],
        }[count["op"]]
        aggregate = rule.get("aggregate")
        if aggregate and ok:
            numbers = [
                v for e in found if is_number(v := get(e["properties"], aggregate["property"].split(".")))
            ]
            if aggregate["fn"] == "sum":
                ok = compare(sum(numbers), aggregate["op"], aggregate["value"])
            else:
                ok = bool(numbers) and compare(
                    sum(numbers) / len(numbers), aggregate["op"], aggregate["value"]
                )
        return ok if rule["op"] == "did" else not ok
    if kind == "sequence":
        within = timedelta(days=rule["within_days"])
        firsts = matched(events, rule["first"]["event"], rule["first"].get("filters", []), rule.get("window"))
        thens = matched(events, rule["then"]["event"], rule["then"].get("filters", []), None)

        def followed(a) -> bool:
            return any(a["timestamp"] < b["timestamp"] <= a["timestamp"] + within for b in thens)

        if rule["op"] == "did":
            return any(followed(a) for a in firsts)
        return any(a["timestamp"] <= NOW - within and not followed(a) for a in firsts)
    raise AssertionError(kind)


# --- random worlds -------------------------------------------------------------------------

DATES = [
    "2026-05-31",
    "2026-05-02T12:00:00Z",
    "2026-05-02 11:59:59",
    "2026-05-20T08:00:00+02:00",
    "2025-12-31T23:30:00-01:00",
    "2024-02-29",
    "2026-02-30",
    "soon",
]
WORDS = ["yoga", "Yoga", "run", "Berlin", "Bern", "plus", "basic", "b_rn", "50%"]
NUMBERS = [0, 1, 3, 12, 80.5, 100, 120, 150, -2.5]
optional = st.none()  # marker for "leave the key out"


def maybe(strategy):
    return st.one_of(optional, strategy)


scalars = st.one_of(st.sampled_from(WORDS), st.sampled_from(NUMBERS), st.booleans())
traits = st.fixed_dictionaries(
    {},
    optional={
        "tier": st.sampled_from(["plus", "basic", "Plus", 3, True]),
        "points": st.one_of(st.sampled_from(NUMBERS), st.just("12"), st.none()),
        "address": st.one_of(
            st.fixed_dictionaries({"city": st.sampled_from(["Berlin", "Bern", "Paris", 5])}),
            st.just("Berlin"),
        ),
        "signup": st.sampled_from([*DATES, 20260101]),
        "tags": st.lists(st.sampled_from(WORDS + [3]), max_size=3),
    },
)
consents = st.fixed_dictionaries(
    {},
    optional={"share": st.sampled_from([{"granted": True}, {"granted": False}, {"granted": "yes"}, {}])},
)
products = st.one_of(
    st.lists(
        st.one_of(
            st.fixed_dictionaries({}, optional={"category": st.sampled_from(WORDS + [7])}), st.just("yoga")
        ),
        max_size=3,
    ),
    st.just({"category": "yoga"}),
)
properties = st.fixed_dictionaries(
    {},
    optional={
        "revenue": st.one_of(st.sampled_from(NUMBERS), st.just("100"), st.just(True)),
        "category": st.sampled_from(WORDS),
        "products": products,
        "placed_at": st.sampled_from(DATES),
    },
)
events = st.fixed_dictionaries(
    {
        "who": st.integers(0, 3),
        "event": st.sampled_from(EVENT_NAMES),
        # often exactly on a window's or a sequence's edge (0.25, 0.5, 1, 2, 5, 7, 30, 60 days)
        "hours_ago": st.one_of(
            st.sampled_from([6, 12, 24, 48, 72, 120, 168, 720, 1440]), st.integers(0, 24 * 120)
        ),
        "properties": properties,
    }
)
worlds = st.fixed_dictionaries(
    {
        "people": st.lists(
            st.fixed_dictionaries({"traits": traits, "consent": consents}), min_size=2, max_size=4
        ),
        "events": st.lists(events, max_size=10),
    }
)

# --- random rules ----------------------------------------------------------------------------

TRAIT_PATHS = ["tier", "points", "address.city", "address", "signup", "tags[]", "nothing"]
PROPERTY_PATHS = ["revenue", "category", "products[].category", "products[]", "placed_at", "nothing.here"]


def comparisons(paths, key):
    def build(path, op, data):
        node = {key: path, "op": op}
        value = {
            "equals": data.draw(scalars),
            "not_equals": data.draw(scalars),
            "contains": data.draw(st.sampled_from(["e", "B", "ber", "ga", "_", "%"])),
            "starts_with": data.draw(st.sampled_from(["b", "Y", "pl", "B_"])),
            "in": data.draw(
                st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(NUMBERS)), min_size=1, max_size=3)
            ),
            "before": data.draw(st.sampled_from(DATES[:6])),
            "after": data.draw(st.sampled_from(DATES[:6])),
            "within_last_days": data.draw(st.sampled_from([1, 7, 30, 1000])),
        }.get(op, data.draw(st.sampled_from(NUMBERS)))
        if op not in ("exists", "not_exists"):
            node["value"] = value
        return node

    ops = [
        "equals",
        "not_equals",
        "contains",
        "starts_with",
        "in",
        "gt",
        "gte",
        "lt",
        "lte",
        "before",
        "after",
        "within_last_days",
        "exists",
        "not_exists",
    ]
    return st.builds(build, st.sampled_from(paths), st.sampled_from(ops), st.data())


windows = st.one_of(
    st.none(),
    st.just({"type": "ever"}),
    st.builds(lambda d: {"type": "last_days", "days": d}, st.sampled_from([1, 2, 7, 30, 60, 0.5])),
    st.builds(
        lambda a, b: {"type": "between", "from": min(a, b), "to": max(a, b)},
        st.sampled_from(["2026-02-01", "2026-04-15", "2026-05-02T12:00:00Z"]),
        st.sampled_from(["2026-03-01", "2026-05-31", "2026-05-30T00:00:00Z"]),
    ),
)
filters = st.lists(comparisons(PROPERTY_PATHS, "property"), max_size=2)


def drop_none(node: dict) -> dict:
    return {k: v for k, v in node.items() if v is not None}


event_conditions = st.builds(
    lambda op, name, flt, window, count, aggregate: drop_none(
        {
            "type": "event",
            "op": op,
            "event": name,
            "filters": flt,
            "window": window,
            "count": count,
            "aggregate": aggregate,
        }
    ),
    st.sampled_from(["did", "did_not"]),
    st.sampled_from(EVENT_NAMES),
    filters,
    windows,
    maybe(
        st.builds(
            lambda op, n: {"op": op, "value": n},
            st.sampled_from(["at_least", "at_most", "exactly"]),
            st.integers(0, 3),
        )
    ),
    maybe(
        st.builds(
            lambda fn, op, v: {"fn": fn, "property": "revenue", "op": op, "value": v},
            st.sampled_from(["sum", "avg"]),
            st.sampled_from(["equals", "gt", "gte", "lt", "lte"]),
            st.sampled_from([0, 50, 100, 120.5, 200]),
        )
    ),
)
sequences = st.builds(
    lambda op, a, fa, b, fb, within, window: drop_none(
        {
            "type": "sequence",
            "op": op,
            "first": {"event": a, "filters": fa},
            "then": {"event": b, "filters": fb},
            "within_days": within,
            "window": window,
        }
    ),
    st.sampled_from(["did", "did_not"]),
    st.sampled_from(EVENT_NAMES),
    filters,
    st.sampled_from(EVENT_NAMES),
    filters,
    st.sampled_from([1, 2, 5, 0.25]),
    windows,
)
consent_conditions = st.builds(
    lambda granted, default: drop_none(
        {"type": "consent", "purpose": "share", "granted": granted, "default": default}
    ),
    st.booleans(),
    maybe(st.booleans()),
)
score_conditions = st.builds(
    lambda op, v: {"type": "score", "model": "points_model", "op": op, "value": v},
    st.sampled_from(["gt", "gte", "lt", "lte"]),
    st.sampled_from(NUMBERS),
)
leaves = st.one_of(
    comparisons(TRAIT_PATHS, "trait").map(lambda n: {"type": "trait", **n}),
    event_conditions,
    sequences,
    consent_conditions,
    score_conditions,
)


def rule_trees(depth: int):
    if depth == 0:
        return leaves
    smaller = rule_trees(depth - 1)
    return st.one_of(
        leaves,
        st.builds(
            lambda kind, cs: {"type": kind, "conditions": cs},
            st.sampled_from(["and", "or"]),
            st.lists(smaller, min_size=1, max_size=3),
        ),
        st.builds(lambda c: {"type": "not", "condition": c}, smaller),
    )


@pytest.fixture
def points_model():
    rules.register_score_provider("points_model", lambda key: JSONNumber("traits", "points"))
    yield
    rules.unregister_score_provider("points_model")


@pytest.mark.django_db
@settings(
    max_examples=int(os.environ.get("CXO_RULE_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=worlds, rule_list=st.lists(rule_trees(3), min_size=1, max_size=4))
def test_compiled_rules_select_what_the_reference_selects(points_model, world, rule_list):
    Profile.objects.all().delete()
    source = SourceFactory()
    people = [ProfileFactory(traits=p["traits"], consent=p["consent"]) for p in world["people"]]
    timeline: dict[int, list[dict]] = {p.pk: [] for p in people}
    for e in world["events"]:
        person = people[e["who"] % len(people)]
        timestamp = NOW - timedelta(hours=e["hours_ago"])
        EventFactory(
            profile=person, source=source, event=e["event"], timestamp=timestamp, properties=e["properties"]
        )
        timeline[person.pk].append(
            {"event": e["event"], "timestamp": timestamp, "properties": e["properties"]}
        )
    for rule in rule_list:
        rules.validate(rule)
        expected = {
            p.pk
            for p, raw in zip(people, world["people"], strict=True)
            if reference(rule, raw, timeline[p.pk])
        }
        got = set(rules.matching_profiles(rule, now=NOW).values_list("pk", flat=True))
        assert got == expected, rules.describe(rule)
        event(
            "selects none"
            if not expected
            else "selects all"
            if len(expected) == len(people)
            else "selects some"
        )
        assert {p.pk for p in people if rules.evaluate(rule, p, now=NOW)} == expected
