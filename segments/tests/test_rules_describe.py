"""describe(), event_names() and is_time_dependent(): reading a rule without running it."""

import pytest

from segments import rules

from .test_rules_validation import YOGA_LAPSED


def test_the_scenario_audience_in_words():
    assert rules.describe(YOGA_LAPSED) == (
        "bought (Order Completed) with products.category = yoga at least once ever, "
        "and did not do Order Completed in the last 60 days"
    )


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            {"type": "trait", "trait": "loyalty_tier", "op": "in", "value": ["gold", "plus"]},
            "loyalty_tier is one of gold, plus",
        ),
        ({"type": "trait", "trait": "email", "op": "not_exists"}, "email is not set"),
        (
            {"type": "trait", "trait": "signed_up", "op": "within_last_days", "value": 30},
            "signed_up is within the last 30 days",
        ),
        (
            {
                "type": "event",
                "op": "did",
                "event": "Order Completed",
                "window": {"type": "last_days", "days": 90},
                "aggregate": {"fn": "sum", "property": "revenue", "op": "gte", "value": 200},
            },
            "did Order Completed at least once with total revenue ≥ 200 in the last 90 days",
        ),
        (
            {
                "type": "event",
                "op": "did_not",
                "event": "Product Viewed",
                "count": {"op": "at_least", "value": 3},
            },
            "not (did Product Viewed at least 3 times ever)",
        ),
        (
            {
                "type": "sequence",
                "op": "did_not",
                "first": {"event": "Product Viewed"},
                "then": {"event": "Order Completed"},
                "within_days": 2,
            },
            "did Product Viewed then no Order Completed within 2 days",
        ),
        (
            {
                "type": "or",
                "conditions": [
                    {"type": "audience", "audience_id": 7},
                    {"type": "not", "condition": {"type": "consent", "purpose": "email", "granted": True}},
                ],
            },
            "is in audience #7, or not consent to email is granted (unknown counts as denied)",
        ),
    ],
)
def test_rules_read_as_plain_english(rule, words):
    assert rules.describe(rule) == words


def test_event_names_lists_the_events_that_can_change_the_result():
    assert rules.event_names(YOGA_LAPSED) == {"Order Completed"}
    sequence = {
        "type": "sequence",
        "op": "did",
        "first": {"event": "Product Viewed"},
        "then": {"event": "Order Completed"},
        "within_days": 2,
    }
    assert rules.event_names({"type": "not", "condition": sequence}) == {"Product Viewed", "Order Completed"}


def test_trait_consent_and_audience_conditions_depend_on_any_event():
    with_trait = {
        "type": "and",
        "conditions": [YOGA_LAPSED, {"type": "trait", "trait": "tier", "op": "exists"}],
    }
    assert rules.event_names(with_trait) is None
    assert rules.event_names({"type": "consent", "purpose": "share", "granted": True}) is None
    assert rules.event_names({"type": "audience", "audience_id": 3}) is None


def test_time_dependence():
    assert rules.is_time_dependent(YOGA_LAPSED)
    assert not rules.is_time_dependent(YOGA_LAPSED["conditions"][0])
    between = {
        "type": "event",
        "op": "did",
        "event": "A",
        "window": {"type": "between", "from": "2026-01-01", "to": "2026-02-01"},
    }
    assert not rules.is_time_dependent(between)
    assert rules.is_time_dependent({"type": "trait", "trait": "d", "op": "within_last_days", "value": 3})
    assert not rules.is_time_dependent({"type": "trait", "trait": "d", "op": "before", "value": "2026-01-01"})
    abandoned = {
        "type": "sequence",
        "op": "did_not",
        "first": {"event": "Product Viewed"},
        "then": {"event": "Order Completed"},
        "within_days": 2,
    }
    assert rules.is_time_dependent(abandoned)
    assert not rules.is_time_dependent({**abandoned, "op": "did"})


def test_audience_ids():
    rule = {
        "type": "and",
        "conditions": [
            {"type": "audience", "audience_id": 4},
            {"type": "not", "condition": {"type": "audience", "audience_id": 9, "member": False}},
        ],
    }
    assert rules.audience_ids(rule) == {4, 9}
    assert rules.audience_ids(YOGA_LAPSED) == set()


def test_describing_an_invalid_rule_raises_rule_error():
    with pytest.raises(rules.RuleError):
        rules.describe({"type": "trait"})
