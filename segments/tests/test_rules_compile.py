"""Each condition type selects the people its description promises (run on SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from profiles.models import Profile
from segments import rules
from segments.rules.sql import JSONNumber
from tests.factories import EventFactory, ProfileFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def selected(rule: dict) -> set[int]:
    return set(rules.matching_profiles(rule, now=NOW).values_list("pk", flat=True))


def trait(path: str, op: str, value=None) -> dict:
    node = {"type": "trait", "trait": path, "op": op}
    if value is not None:
        node["value"] = value
    return node


def event(name: str, op: str = "did", **extra) -> dict:
    return {"type": "event", "op": op, "event": name, **extra}


@pytest.fixture
def people():
    return {
        "sarah": ProfileFactory(
            traits={
                "loyalty_tier": "Plus",
                "points": 120,
                "address": {"city": "Berlin"},
                "signed_up": "2025-01-02",
                "vip": True,
            }
        ),
        "tom": ProfileFactory(
            traits={
                "loyalty_tier": "basic",
                "points": 80.5,
                "address": {"city": "Bern"},
                "signed_up": "2026-05-20T08:00:00Z",
            }
        ),
        "ann": ProfileFactory(traits={"loyalty_tier": "basic", "points": "150", "vip": False}),
        "anon": ProfileFactory(traits={}),
    }


def ids(people, *names) -> set[int]:
    return {people[n].pk for n in names}


class TestTraitConditions:
    def test_equals_compares_strings_exactly(self, people):
        assert selected(trait("loyalty_tier", "equals", "basic")) == ids(people, "tom", "ann")

    def test_equals_a_number_does_not_match_a_numeric_string(self, people):
        assert selected(trait("points", "equals", 120)) == ids(people, "sarah")
        assert selected(trait("points", "equals", "150")) == ids(people, "ann")

    def test_equals_a_boolean(self, people):
        assert selected(trait("vip", "equals", True)) == ids(people, "sarah")
        assert selected(trait("vip", "equals", False)) == ids(people, "ann")

    def test_not_equals_includes_people_without_the_trait(self, people):
        assert selected(trait("loyalty_tier", "not_equals", "basic")) == ids(people, "sarah", "anon")

    def test_contains_and_starts_with_ignore_case(self, people):
        assert selected(trait("address.city", "contains", "ER")) == ids(people, "sarah", "tom")
        assert selected(trait("address.city", "starts_with", "berl")) == ids(people, "sarah")

    def test_like_wildcards_in_the_value_are_taken_literally(self, people):
        assert selected(trait("address.city", "contains", "%")) == set()
        assert selected(trait("address.city", "starts_with", "B_rn")) == set()

    def test_in_list_matches_strings_and_numbers(self, people):
        assert selected(trait("loyalty_tier", "in", ["Plus", "gold"])) == ids(people, "sarah")
        assert selected(trait("points", "in", [80.5, 7])) == ids(people, "tom")

    def test_numeric_comparisons_skip_non_numbers(self, people):
        assert selected(trait("points", "gt", 100)) == ids(people, "sarah")
        assert selected(trait("points", "lte", 80.5)) == ids(people, "tom")
        assert selected(trait("points", "gte", 80.5)) == ids(people, "sarah", "tom")
        assert selected(trait("points", "lt", 1000)) == ids(people, "sarah", "tom")

    def test_date_comparisons(self, people):
        assert selected(trait("signed_up", "before", "2026-01-01")) == ids(people, "sarah")
        assert selected(trait("signed_up", "after", "2026-05-20T07:59:59+00:00")) == ids(people, "tom")
        assert selected(trait("signed_up", "after", "2026-05-20T09:59:59+02:00")) == ids(people, "tom")
        assert selected(trait("signed_up", "after", "2026-05-20T10:00:01+02:00")) == set()
        assert selected(trait("signed_up", "within_last_days", 30)) == ids(people, "tom")

    def test_dates_that_do_not_parse_match_no_date_comparison(self):
        odd = ProfileFactory(traits={"d": "2026-02-30"})
        text = ProfileFactory(traits={"d": "yesterday"})
        assert selected(trait("d", "before", "2030-01-01")) == set()
        assert selected({"type": "not", "condition": trait("d", "before", "2030-01-01")}) == {odd.pk, text.pk}

    def test_exists_and_not_exists(self, people):
        ProfileFactory(traits={"vip": None})
        assert selected(trait("vip", "exists")) == ids(people, "sarah", "ann")
        assert selected(trait("address.city", "not_exists")) == set(
            Profile.objects.values_list("pk", flat=True)
        ) - ids(people, "sarah", "tom")

    def test_values_are_parameters_not_sql(self, people):
        hostile = "x' OR '1'='1"
        assert selected(trait("loyalty_tier", "equals", hostile)) == set()
        with pytest.raises(rules.RuleError):
            selected(trait("it's", "exists"))


class TestEventConditions:
    @pytest.fixture
    def orders(self, people):
        EventFactory(
            profile=people["sarah"],
            event="Order Completed",
            timestamp=days_ago(100),
            properties={"revenue": 80, "products": [{"category": "yoga"}, {"category": "running"}]},
        )
        EventFactory(
            profile=people["sarah"],
            event="Order Completed",
            timestamp=days_ago(30),
            properties={"revenue": 150},
        )
        EventFactory(
            profile=people["tom"],
            event="Order Completed",
            timestamp=days_ago(5),
            properties={"revenue": "300", "products": [{"category": "running"}]},
        )
        EventFactory(profile=people["ann"], event="Product Viewed", timestamp=days_ago(1))
        return people

    def test_did_and_did_not(self, orders):
        assert selected(event("Order Completed")) == ids(orders, "sarah", "tom")
        assert selected(event("Order Completed", "did_not")) == ids(orders, "ann", "anon")

    def test_filter_on_any_list_item(self, orders):
        yoga = [{"property": "products[].category", "op": "equals", "value": "yoga"}]
        assert selected(event("Order Completed", filters=yoga)) == ids(orders, "sarah")

    def test_numeric_filter(self, orders):
        big = [{"property": "revenue", "op": "gt", "value": 100}]
        assert selected(event("Order Completed", filters=big)) == ids(orders, "sarah")

    def test_windows(self, orders):
        last_60 = {"type": "last_days", "days": 60}
        assert selected(event("Order Completed", window=last_60)) == ids(orders, "sarah", "tom")
        assert selected(event("Order Completed", window={"type": "last_days", "days": 20})) == ids(
            orders, "tom"
        )
        between = {"type": "between", "from": "2026-02-01", "to": days_ago(100).date().isoformat()}
        assert selected(event("Order Completed", window=between)) == ids(orders, "sarah")

    def test_counts(self, orders):
        assert selected(event("Order Completed", count={"op": "at_least", "value": 2})) == ids(
            orders, "sarah"
        )
        assert selected(event("Order Completed", count={"op": "exactly", "value": 1})) == ids(orders, "tom")
        assert selected(event("Order Completed", count={"op": "at_most", "value": 1})) == ids(
            orders, "tom", "ann", "anon"
        )

    def test_sum_and_average_of_a_numeric_property(self, orders):
        total = {"fn": "sum", "property": "revenue", "op": "gte", "value": 200}
        assert selected(event("Order Completed", aggregate=total)) == ids(orders, "sarah")
        average = {"fn": "avg", "property": "revenue", "op": "equals", "value": 115}
        assert selected(event("Order Completed", aggregate=average)) == ids(orders, "sarah")
        low_total = {"fn": "sum", "property": "revenue", "op": "lt", "value": 10}
        # Tom's revenue is a string: not a number, so his total is 0.
        assert selected(event("Order Completed", aggregate=low_total)) == ids(orders, "tom")

    def test_did_not_is_the_opposite_of_did_with_the_same_details(self, orders):
        details = {"count": {"op": "at_least", "value": 2}, "window": {"type": "last_days", "days": 200}}
        assert selected(event("Order Completed", "did_not", **details)) == ids(orders, "tom", "ann", "anon")


class TestEdges:
    def test_an_event_exactly_n_days_ago_is_in_the_last_n_days(self, people):
        EventFactory(profile=people["sarah"], event="Order Completed", timestamp=days_ago(60))
        assert selected(event("Order Completed", window={"type": "last_days", "days": 60})) == ids(
            people, "sarah"
        )
        assert selected(event("Order Completed", window={"type": "last_days", "days": 59.99})) == set()

    def test_a_between_window_ending_on_a_date_includes_that_whole_day(self, people):
        EventFactory(
            profile=people["sarah"],
            event="Order Completed",
            timestamp=datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
        )
        EventFactory(
            profile=people["tom"], event="Order Completed", timestamp=datetime(2026, 3, 2, tzinfo=UTC)
        )
        window = {"type": "between", "from": "2026-03-01", "to": "2026-03-01"}
        assert selected(event("Order Completed", window=window)) == ids(people, "sarah")
        exclusive = {"type": "between", "from": "2026-03-01", "to": "2026-03-02T00:00:00Z"}
        assert selected(event("Order Completed", window=exclusive)) == ids(people, "sarah")

    def test_a_follow_up_exactly_at_the_end_of_the_time_counts(self, people):
        EventFactory(profile=people["sarah"], event="Product Viewed", timestamp=days_ago(10))
        EventFactory(profile=people["sarah"], event="Order Completed", timestamp=days_ago(8))
        EventFactory(profile=people["tom"], event="Product Viewed", timestamp=days_ago(10))
        EventFactory(
            profile=people["tom"], event="Order Completed", timestamp=days_ago(10)
        )  # same moment: not after
        rule = {
            "type": "sequence",
            "op": "did",
            "first": {"event": "Product Viewed"},
            "then": {"event": "Order Completed"},
            "within_days": 2,
        }
        assert selected(rule) == ids(people, "sarah")
        assert selected({**rule, "op": "did_not"}) == ids(people, "tom")


class TestSequenceConditions:
    @pytest.fixture
    def journeys(self, people):
        EventFactory(profile=people["sarah"], event="Product Viewed", timestamp=days_ago(10))
        EventFactory(profile=people["sarah"], event="Order Completed", timestamp=days_ago(9))
        EventFactory(profile=people["tom"], event="Product Viewed", timestamp=days_ago(10))
        EventFactory(profile=people["tom"], event="Order Completed", timestamp=days_ago(5))
        EventFactory(profile=people["ann"], event="Product Viewed", timestamp=days_ago(1))
        return people

    def sequence(self, op: str, **extra) -> dict:
        return {
            "type": "sequence",
            "op": op,
            "first": {"event": "Product Viewed"},
            "then": {"event": "Order Completed"},
            "within_days": 2,
            **extra,
        }

    def test_then_within(self, journeys):
        assert selected(self.sequence("did")) == ids(journeys, "sarah")

    def test_then_no_counts_only_finished_follow_up_time(self, journeys):
        # Ann viewed a day ago: her two days are not over, so she has not (yet) abandoned.
        assert selected(self.sequence("did_not")) == ids(journeys, "tom")

    def test_window_applies_to_the_first_event(self, journeys):
        assert selected(self.sequence("did", window={"type": "last_days", "days": 5})) == set()

    def test_order_matters(self, journeys):
        reverse = self.sequence("did", first={"event": "Order Completed"}, then={"event": "Product Viewed"})
        assert selected(reverse) == set()


class TestConsentAndScores:
    def test_consent_uses_the_stated_default_when_unknown(self):
        yes = ProfileFactory(consent={"share": {"granted": True, "at": "2026-01-01T00:00:00Z"}})
        no = ProfileFactory(consent={"share": {"granted": False, "at": "2026-01-01T00:00:00Z"}})
        unknown = ProfileFactory(consent={})
        granted = {"type": "consent", "purpose": "share", "granted": True}
        assert selected(granted) == {yes.pk}
        assert selected({**granted, "default": True}) == {yes.pk, unknown.pk}
        assert selected({**granted, "granted": False}) == {no.pk, unknown.pk}
        assert selected({**granted, "granted": False, "default": True}) == {no.pk}

    def test_score_threshold_through_a_registered_provider(self):
        high = ProfileFactory(traits={"yoga_score": 0.9})
        low = ProfileFactory(traits={"yoga_score": 0.2})
        ProfileFactory(traits={})
        rules.register_score_provider("yoga_30d", lambda key: JSONNumber("traits", "yoga_score"))
        try:
            rule = {"type": "score", "model": "yoga_30d", "op": "gte", "value": 0.7}
            assert selected(rule) == {high.pk}
            assert selected({"type": "not", "condition": rule}) == set(
                Profile.objects.exclude(pk=high.pk).values_list("pk", flat=True)
            )
            assert low.pk in selected({**rule, "op": "lt"})
        finally:
            rules.unregister_score_provider("yoga_30d")


class TestStructure:
    def test_and_or_not_nest(self, people):
        rule = {
            "type": "or",
            "conditions": [
                trait("points", "gt", 100),
                {
                    "type": "and",
                    "conditions": [
                        trait("loyalty_tier", "equals", "basic"),
                        {"type": "not", "condition": trait("vip", "exists")},
                    ],
                },
            ],
        }
        assert selected(rule) == ids(people, "sarah", "tom")

    def test_one_query_for_the_whole_rule(self, people):
        rule = {
            "type": "and",
            "conditions": [
                event(
                    "Order Completed",
                    filters=[{"property": "products[].category", "op": "equals", "value": "yoga"}],
                ),
                event("Order Completed", "did_not", window={"type": "last_days", "days": 60}),
                event(
                    "Order Completed", aggregate={"fn": "sum", "property": "revenue", "op": "gt", "value": 1}
                ),
                trait("points", "gt", 1),
            ],
        }
        with CaptureQueriesContext(connection) as queries:
            list(rules.matching_profiles(rule, now=NOW))
        assert len(queries) == 1

    def test_evaluate_one_profile_agrees_with_the_set(self, people):
        rule = trait("loyalty_tier", "equals", "basic")
        chosen = selected(rule)
        for person in people.values():
            assert rules.evaluate(rule, person, now=NOW) == (person.pk in chosen)
        assert rules.evaluate(rule, people["tom"].pk, now=NOW)

    def test_compiling_an_invalid_rule_raises_rule_error(self):
        with pytest.raises(rules.RuleError):
            rules.compile_rule({"type": "trait", "trait": "x", "op": "gt", "value": "many"})
