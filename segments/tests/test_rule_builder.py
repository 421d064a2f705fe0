"""The console's rule builder: edits of the tree, pickers fed by the data, size and words as you go."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from segments import builder, rules
from segments.models import Audience
from segments.rules.examples import YOGA_LAPSED
from tests.factories import EventFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_catalogue():
    cache.clear()


@pytest.fixture
def marketer_client(client, make_user):
    client.force_login(make_user("marketer"))
    return client


def edit(client, rule: dict, **data):
    response = client.post(reverse("segments:builder"), {"rule": json.dumps(rule), **data})
    assert response.status_code == 200
    html = response.content.decode()
    state = re.search(r'name="rule" value="([^"]*)"', html).group(1)
    return json.loads(unescape(state)), html


def test_building_the_scenario_rule_edit_by_edit(marketer_client):
    rule = {"type": "and", "conditions": []}
    rule, _ = edit(marketer_client, rule, action="add", path="", kind="event")
    rule, _ = edit(
        marketer_client, rule, action="set", path="conditions[0]", field="event", value="Order Completed"
    )
    rule, _ = edit(marketer_client, rule, action="filter_add", path="conditions[0]")
    for field, value in [("property", "products[].category"), ("value", "yoga")]:
        rule, _ = edit(
            marketer_client,
            rule,
            action="filter_set",
            path="conditions[0]",
            index="0",
            field=field,
            value=value,
        )
    rule, _ = edit(marketer_client, rule, action="add", path="", kind="event")
    for field, value in [
        ("op", "did_not"),
        ("event", "Order Completed"),
        ("window", "last_days"),
        ("days", "60"),
    ]:
        rule, html = edit(marketer_client, rule, action="set", path="conditions[1]", field=field, value=value)
    assert rule == YOGA_LAPSED
    assert "did not do Order Completed in the last 60 days" in unescape(html)


def test_the_size_estimate_and_words_follow_the_rule(marketer_client):
    buyer = ProfileFactory()
    EventFactory(profile=buyer, event="Order Completed", properties={"revenue": 120})
    EventFactory(event="Product Viewed")
    rule = {"type": "event", "op": "did", "event": "Order Completed"}
    _, html = edit(marketer_client, rule)
    assert re.search(r'id="estimate">1</span> of 2 profiles \(50 %\)', html)
    assert unescape(rules.describe(rule)) in unescape(html)
    rule, html = edit(marketer_client, rule, action="set", path="", field="count_op", value="at_least")
    rule, html = edit(marketer_client, rule, action="set", path="", field="count_value", value="2")
    assert rule["count"] == {"op": "at_least", "value": 2}
    assert 'id="estimate">0</span>' in html


def test_incomplete_conditions_are_marked_where_they_are(marketer_client):
    rule = {"type": "and", "conditions": [{"type": "trait", "trait": "", "op": "gt", "value": "lots"}]}
    _, html = edit(marketer_client, rule)
    assert "Not complete yet: 2 problems" in html
    node = html[html.index('id="n-conditions-0"') :]
    assert "trait: '' is not a valid path" in unescape(node) and "value: 'lots' is not of type" in unescape(
        node
    )
    assert 'id="estimate"' not in html


def test_pickers_offer_the_events_properties_and_traits_in_the_data(marketer_client):
    ProfileFactory(traits={"loyalty_tier": "Luma Plus", "address": {"city": "Malmö"}})
    EventFactory(
        event="Order Completed",
        properties={"revenue": 80, "products": [{"category": "yoga", "sku": "Y1"}, {"category": "running"}]},
    )
    rule = {"type": "and", "conditions": [{"type": "event", "op": "did", "event": "Order Completed"}]}
    rule, html = edit(marketer_client, rule, action="filter_add", path="conditions[0]")
    html = unescape(html)
    assert '<datalist id="dl-events"><option value="Order Completed">' in html
    for name in ("loyalty_tier", "address.city"):
        assert f'<option value="{name}">' in html
    for path in ("products[].category", "products[].sku", "revenue"):
        assert f'<option value="{path}">' in html
    rule, html = edit(
        marketer_client,
        rule,
        action="filter_set",
        path="conditions[0]",
        index="0",
        field="property",
        value="products[].category",
    )
    examples = re.search(r'id="n-conditions-0-f0-examples">(.*?)</datalist>', html).group(1)
    assert 'value="yoga"' in examples and 'value="running"' in examples


def test_negate_nest_and_remove(marketer_client):
    rule = {"type": "and", "conditions": [{"type": "consent", "purpose": "email", "granted": True}]}
    rule, _ = edit(marketer_client, rule, action="negate", path="conditions[0]")
    assert rule["conditions"][0] == {
        "type": "not",
        "condition": {"type": "consent", "purpose": "email", "granted": True},
    }
    rule, _ = edit(marketer_client, rule, action="negate", path="conditions[0]")
    rule, _ = edit(marketer_client, rule, action="wrap", path="conditions[0]")
    assert rule["conditions"][0]["type"] == "or"
    rule, _ = edit(marketer_client, rule, action="add", path="conditions[0]", kind="trait")
    assert len(rule["conditions"][0]["conditions"]) == 2
    rule, _ = edit(marketer_client, rule, action="remove", path="conditions[0].conditions[0]")
    assert rule["conditions"][0]["conditions"] == [
        {"type": "trait", "trait": "", "op": "equals", "value": ""}
    ]
    rule, _ = edit(marketer_client, rule, action="set", path="conditions[0]", field="type", value="and")
    assert rule["conditions"][0]["type"] == "and"


def test_a_stale_edit_or_bad_json_is_reported_and_the_rule_kept(marketer_client):
    rule = {"type": "and", "conditions": [{"type": "event", "op": "did", "event": "X"}]}
    kept, html = edit(marketer_client, rule, action="remove", path="conditions[5]")
    assert kept == rule and "No condition at conditions[5]" in html
    kept, html = edit(marketer_client, rule, action="load", rule_json="{not json")
    assert kept == rule and "Not valid JSON" in html
    loaded, _ = edit(marketer_client, rule, action="load", rule_json=json.dumps(YOGA_LAPSED))
    assert loaded == YOGA_LAPSED


@pytest.mark.parametrize(
    ("op", "typed", "stored"),
    [
        ("equals", "Luma Plus", "Luma Plus"),
        ("equals", "42", 42),
        ("equals", "007", "007"),
        ("equals", "true", True),
        ("gte", "2.5", 2.5),
        ("in", "gold, platinum, 3", ["gold", "platinum", 3]),
        ("contains", "12", "12"),
        ("within_last_days", "30", 30),
    ],
)
def test_typed_values_become_json_by_the_comparison(op, typed, stored):
    assert builder.coerce(op, typed) == stored


def test_changing_the_comparison_keeps_or_drops_the_value():
    node = {"type": "trait", "trait": "points", "op": "equals", "value": "10"}
    builder.apply_edit(node, {"action": "set", "path": "", "field": "op", "value": "gte"})
    assert node["value"] == 10
    builder.apply_edit(node, {"action": "set", "path": "", "field": "op", "value": "exists"})
    assert "value" not in node


def test_saving_from_the_builder_creates_the_audience(marketer_client, django_capture_on_commit_callbacks):
    lapsed = ProfileFactory()
    EventFactory(
        profile=lapsed,
        event="Order Completed",
        timestamp=timezone.now() - timedelta(days=90),
        properties={"products": [{"category": "yoga"}]},
    )
    page = marketer_client.get(reverse("segments:create")).content.decode()
    assert 'id="builder"' in page and 'form="audience-form"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            reverse("segments:create"), {"name": "Yoga buyers, lapsed", "rule": json.dumps(YOGA_LAPSED)}
        )
    audience = Audience.objects.get(name="Yoga buyers, lapsed")
    assert response.status_code == 302 and audience.rule == YOGA_LAPSED
    assert audience.size == 1


def test_an_invalid_rule_is_not_saved_and_the_builder_shows_it(marketer_client):
    bad = {"type": "and", "conditions": [{"type": "event", "op": "did", "event": ""}]}
    response = marketer_client.post(
        reverse("segments:create"), {"name": "Half done", "rule": json.dumps(bad)}
    )
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "The rule cannot be saved yet" in html and "should be non-empty" in html
    assert json.dumps(bad) in html  # the builder still holds what was built
    assert not Audience.objects.exists()


def test_agents_cannot_use_the_builder(client, make_user):
    client.force_login(make_user("agent"))
    assert client.post(reverse("segments:builder"), {"rule": "{}"}).status_code == 403
