"""The Luma demo world's invariants, on a small world."""

import csv
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Q

from profiles.demo.catalogue import CAMPAIGNS, STORES, build_products
from profiles.demo.simulate import make_person, simulate
from profiles.models import Event, Identity, Profile, ProfileMerge

TODAY = datetime(2026, 11, 24, tzinfo=UTC)
PEOPLE, DAYS = 160, 90


def seed(tmp_path, **extra):
    truth = tmp_path / "truth.csv"
    call_command(
        "seed_demo",
        "--profiles",
        str(PEOPLE),
        "--days",
        str(DAYS),
        "--seed",
        "7",
        "--today",
        "2026-11-24",
        "--truth-out",
        str(truth),
        **extra,
    )
    return truth


def digest() -> str:
    rows = Event.objects.order_by("message_id").values_list("message_id", "event", "timestamp", "properties")
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


@pytest.fixture
def world(db, tmp_path):
    return seed(tmp_path)


def test_the_catalogue_is_the_size_the_issue_asks_for():
    products = build_products()
    assert len(products) == 200
    assert {p.category for p in products} == {"yoga", "running", "training", "outdoor", "accessories"}
    assert len(CAMPAIGNS) == 20 and len(STORES) == 10


def test_the_same_seed_gives_the_same_world():
    first = [simulate(7, i, today=TODAY, days=DAYS) for i in range(40)]
    again = [simulate(7, i, today=TODAY, days=DAYS) for i in range(40)]
    other = [simulate(8, i, today=TODAY, days=DAYS) for i in range(40)]
    assert first == again
    assert first != other


def test_seeding_twice_gives_identical_event_digests(db, tmp_path):
    seed(tmp_path)
    once = digest()
    Event.objects.all().delete()
    Profile.objects.all().delete()
    seed(tmp_path)
    assert digest() == once


def test_every_order_is_consistent_with_the_catalogue(world):
    catalogue = {p.product_id: p for p in build_products()}
    orders = Event.objects.filter(event="Order Completed")
    assert orders.count() > 20
    for order in orders:
        lines = order.properties["products"]
        for line in lines:
            assert catalogue[line["product_id"]].price == line["price"]
            assert catalogue[line["product_id"]].category == line["category"]
        subtotal = round(sum(line["price"] * line["quantity"] for line in lines), 2)
        assert order.properties["revenue"] == pytest.approx(subtotal - order.properties["discount"], abs=0.01)


def test_anonymous_history_was_merged_through_identify(world):
    assert ProfileMerge.objects.filter(reason="identify").count() > 3
    # Known people who browsed before signing in own those anonymous page views now.
    known_with_anonymous_events = Profile.objects.filter(
        is_known=True, events__user_id="", events__type__in=["page", "screen"]
    ).distinct()
    assert known_with_anonymous_events.count() > 5


def test_sarah_is_as_the_scenario_describes(world):
    sarah = Identity.objects.get(namespace="email", value="sarah@luma.example").profile
    assert Identity.objects.get(namespace="phone", value="+46701234567").profile == sarah
    assert sarah.traits["loyalty_tier"] == "Luma Plus"
    orders = sarah.events.filter(event="Order Completed")
    assert set(orders.values_list("channel", flat=True)) == {"web", "store"}
    assert all(line["category"] == "yoga" for o in orders for line in o.properties["products"])
    assert not orders.filter(timestamp__gte=TODAY - timedelta(days=60)).exists()
    assert sarah.events.filter(event="Product Viewed", timestamp__gte=TODAY - timedelta(days=30)).exists()


def test_the_ground_truth_is_not_reachable_from_events_or_traits(world):
    with world.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == PEOPLE
    assert {r["outcome"] for r in rows} <= {"0", "1"}
    # Nothing after "today" (the hidden window) was written, and no event or trait carries the truth.
    assert not Event.objects.filter(timestamp__gte=TODAY).exists()
    leaky = (
        Q(properties__has_key="true_probability")
        | Q(properties__has_key="outcome")
        | Q(context__has_key="true_probability")
    )
    assert not Event.objects.filter(leaky).exists()
    assert not Profile.objects.filter(
        Q(traits__has_key="true_probability") | Q(traits__has_key="outcome") | Q(traits__has_key="affinity")
    ).exists()


def test_behaviour_follows_the_latent_yoga_affinity():
    high, low = [], []
    for index in range(1, 400):
        person = make_person(11, index)
        messages, _ = simulate(11, index, today=TODAY, days=DAYS)
        yoga_lines = sum(
            1
            for m in messages
            if m.get("event") == "Order Completed"
            for line in m["properties"]["products"]
            if line["category"] == "yoga"
        )
        (high if person.affinity["yoga"] > 0.4 else low if person.affinity["yoga"] < 0.1 else []).append(
            yoga_lines
        )
    assert len(high) > 20 and len(low) > 20
    assert sum(high) / len(high) > 3 * (sum(low) / len(low))


def test_the_truth_tracks_the_latent_affinity(world):
    with world.open() as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(make_person(7, i).affinity["yoga"], float(r["true_probability"])) for i, r in enumerate(rows)]
    high = [p for a, p in pairs if a > 0.4]
    low = [p for a, p in pairs if a < 0.1]
    assert sum(high) / len(high) > 2 * sum(low) / len(low)


def test_if_empty_does_not_seed_twice(world, tmp_path):
    before = Event.objects.count()
    seed(tmp_path, if_empty=True)
    assert Event.objects.count() == before
