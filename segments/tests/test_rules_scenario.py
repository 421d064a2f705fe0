"""Scenario step 2: "yoga buyers, lapsed" selects exactly the people a plain-Python count selects."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from segments import rules
from tests.factories import EventFactory, ProfileFactory, SourceFactory

from .test_rules_validation import YOGA_LAPSED

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
CATEGORIES = ["yoga", "running", "training", "lifestyle"]


@pytest.fixture
def luma():
    """Sarah, and 80 other Luma customers with seeded random histories across channels."""
    rng = random.Random(20260601)
    web, store = SourceFactory(name="Luma web"), SourceFactory(name="Luma stores")
    histories: dict[int, list[dict]] = {}

    def record(profile, name, days_ago, properties, source, channel):
        timestamp = NOW - timedelta(days=days_ago)
        EventFactory(
            profile=profile,
            source=source,
            event=name,
            channel=channel,
            timestamp=timestamp,
            properties=properties,
        )
        histories.setdefault(profile.pk, []).append(
            {"event": name, "timestamp": timestamp, "properties": properties}
        )

    sarah = ProfileFactory(display_name="Sarah Rose", traits={"loyalty_tier": "plus", "points": 2400})
    record(
        sarah,
        "Order Completed",
        210,
        {"revenue": 89.0, "products": [{"sku": "Y-1", "category": "yoga"}]},
        store,
        "store",
    )
    record(
        sarah,
        "Order Completed",
        95,
        {"revenue": 45.5, "products": [{"sku": "R-7", "category": "running"}]},
        web,
        "web",
    )
    record(sarah, "Product Viewed", 3, {"category": "yoga", "sku": "Y-9"}, web, "web")
    histories.setdefault(sarah.pk, [])

    for n in range(80):
        person = ProfileFactory(display_name=f"Customer {n}")
        histories.setdefault(person.pk, [])
        for _ in range(rng.randint(0, 4)):
            products = [
                {"sku": f"S-{rng.randint(1, 99)}", "category": rng.choice(CATEGORIES)}
                for _ in range(rng.randint(1, 3))
            ]
            days = rng.choice([rng.uniform(0, 400), 60, 59.99, 60.01])  # some right at the 60-day edge
            record(
                person,
                "Order Completed",
                days,
                {"revenue": rng.randint(10, 300), "products": products},
                web,
                "web",
            )
        for _ in range(rng.randint(0, 3)):
            record(
                person, "Product Viewed", rng.uniform(0, 30), {"category": rng.choice(CATEGORIES)}, web, "web"
            )
    return sarah, histories


def lapsed_yoga_buyer(history: list[dict]) -> bool:
    orders = [e for e in history if e["event"] == "Order Completed"]
    bought_yoga = any(
        item.get("category") == "yoga" for order in orders for item in order["properties"].get("products", [])
    )
    recent = any(order["timestamp"] >= NOW - timedelta(days=60) for order in orders)
    return bought_yoga and not recent


def test_yoga_buyers_lapsed_selects_exactly_the_people_who_bought_yoga_and_nothing_in_60_days(luma):
    sarah, histories = luma
    expected = {pk for pk, history in histories.items() if lapsed_yoga_buyer(history)}
    selected = set(rules.matching_profiles(YOGA_LAPSED, now=NOW).values_list("pk", flat=True))
    assert selected == expected
    assert sarah.pk in selected
    assert 5 < len(expected) < len(histories) - 5  # the world is neither empty nor everyone


def test_one_profile_evaluation_agrees_with_the_audience(luma):
    sarah, histories = luma
    selected = set(rules.matching_profiles(YOGA_LAPSED, now=NOW).values_list("pk", flat=True))
    for pk in list(histories)[:25]:
        assert rules.evaluate(YOGA_LAPSED, pk, now=NOW) == (pk in selected)


def test_sarah_leaves_the_audience_when_she_buys_again(luma):
    sarah, _ = luma
    assert rules.evaluate(YOGA_LAPSED, sarah, now=NOW)
    EventFactory(
        profile=sarah,
        event="Order Completed",
        timestamp=NOW - timedelta(minutes=5),
        properties={"revenue": 30},
    )
    assert not rules.evaluate(YOGA_LAPSED, sarah, now=NOW)
    # ... and is back in once that purchase is more than 60 days old.
    assert rules.evaluate(YOGA_LAPSED, sarah, now=NOW + timedelta(days=61))
