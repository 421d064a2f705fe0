"""validate(): every problem reported at its place in the rule, in words a marketer can act on."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
from rest_framework.test import APIRequestFactory

from cxo_site.errors import DomainError, api_exception_handler
from segments import rules
from segments.rules.examples import YOGA_LAPSED
from segments.rules.sql import JSONNumber

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def problems(rule) -> list[dict]:
    with pytest.raises(rules.RuleError) as caught:
        rules.validate(rule, check_references=False)
    return caught.value.errors


def paths(rule) -> list[str]:
    return [e["path"] for e in problems(rule)]


@pytest.fixture
def yoga_model():
    rules.register_score_provider("yoga_30d", lambda key: JSONNumber("traits", "yoga_score"))
    yield
    rules.unregister_score_provider("yoga_30d")


def test_the_published_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(rules.schema())


def test_the_scenario_audience_is_valid():
    rules.validate(YOGA_LAPSED, check_references=False)


def test_every_example_in_the_docs_is_a_valid_rule(yoga_model):
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert len(blocks) >= 8
    for block in blocks:
        rules.validate(json.loads(block), check_references=False)


def test_a_bad_value_is_reported_at_its_path():
    rule = json.loads(json.dumps(YOGA_LAPSED))
    rule["conditions"][0]["filters"][0] = {"property": "revenue", "op": "gt", "value": "lots"}
    rule["conditions"][1]["window"]["days"] = -3
    assert paths(rule) == ["conditions[0].filters[0].value", "conditions[1].window.days"]


def test_unknown_types_and_operators_are_refused():
    assert paths({"type": "magic"}) == ["type"]
    assert paths({"type": "trait", "trait": "tier", "op": "like", "value": "x"}) == ["op"]
    assert paths({"type": "event", "event": "A"}) == [""]
    assert "did or did_not" in problems({"type": "event", "event": "A"})[0]["message"]


def test_operators_need_values_of_their_type():
    assert paths({"type": "trait", "trait": "t", "op": "contains", "value": 3}) == ["value"]
    assert paths({"type": "trait", "trait": "t", "op": "in", "value": []}) == ["value"]
    assert paths({"type": "trait", "trait": "t", "op": "equals"}) == [""]
    assert paths({"type": "trait", "trait": "t", "op": "within_last_days", "value": 0}) == ["value"]
    message = problems({"type": "trait", "trait": "t", "op": "exists", "value": 1})[0]["message"]
    assert message == "exists takes no value"


def test_dates_must_be_real_dates():
    bad = {"type": "trait", "trait": "t", "op": "before", "value": "2026-02-30"}
    assert problems(bad) == [
        {
            "path": "value",
            "message": "'2026-02-30' is not an ISO 8601 date (2026-01-31) or date-time (2026-01-31T14:00:00Z)",
        }
    ]
    assert paths({**bad, "value": "tomorrow"}) == ["value"]
    rules.validate({**bad, "value": "2024-02-29T10:00:00+02:00"})


def test_a_window_must_end_after_it_starts():
    rule = {
        "type": "event",
        "op": "did",
        "event": "A",
        "window": {"type": "between", "from": "2026-02-01", "to": "2026-01-01"},
    }
    assert problems(rule) == [{"path": "window.to", "message": "the window must end after it starts"}]
    rule["window"]["to"] = "2026-02-01"  # a date includes its whole day
    rules.validate(rule)


def test_paths_are_checked():
    assert "not a valid path" in problems({"type": "trait", "trait": "a..b", "op": "exists"})[0]["message"]
    assert paths({"type": "trait", "trait": "a[].b[].c", "op": "exists"}) == ["trait"]
    aggregate = {"fn": "sum", "property": "products[].price", "op": "gt", "value": 1}
    assert paths({"type": "event", "op": "did", "event": "A", "aggregate": aggregate}) == [
        "aggregate.property"
    ]


def test_extra_keys_are_refused():
    assert paths({"type": "trait", "trait": "t", "op": "exists", "color": "red"}) == [""]


def test_a_score_needs_a_registered_model(yoga_model):
    rule = {"type": "not", "condition": {"type": "score", "model": "churn", "op": "gt", "value": 0.5}}
    assert problems(rule) == [{"path": "condition.model", "message": "no propensity model named 'churn'"}]
    rules.validate({"type": "score", "model": "yoga_30d", "op": "gt", "value": 0.5})


@pytest.mark.django_db
def test_unknown_audiences_are_refused():
    with pytest.raises(rules.RuleError) as caught:
        rules.validate({"type": "or", "conditions": [{"type": "audience", "audience_id": 987654}]})
    assert caught.value.errors[0]["path"] == "conditions[0].audience_id"


def test_nesting_is_bounded():
    rule = {"type": "trait", "trait": "t", "op": "exists"}
    for _ in range(40):
        rule = {"type": "not", "condition": rule}
    assert problems(rule)[0]["message"] == "conditions may nest at most 12 deep"
    for _ in range(2000):
        rule = {"type": "not", "condition": rule}
    assert problems(rule)  # refused before the recursive schema sees it


def test_numbers_must_be_finite():
    aggregate = {"fn": "avg", "property": "revenue", "op": "gt", "value": float("nan")}
    assert problems({"type": "event", "op": "did", "event": "A", "aggregate": aggregate})[0][
        "message"
    ].startswith("numbers must be finite")


def test_a_rule_must_be_an_object():
    assert problems(["type", "and"]) == [{"path": "", "message": "a rule is a JSON object"}]


def test_rule_error_is_a_domain_error_with_field_level_messages():
    with pytest.raises(rules.RuleError) as caught:
        rules.validate(
            {"type": "and", "conditions": [{"type": "trait", "trait": "t", "op": "gt", "value": "x"}]}
        )
    error = caught.value
    assert isinstance(error, DomainError)
    assert error.code == "invalid_rule"
    response = api_exception_handler(error, {"request": APIRequestFactory().post("/")})
    assert response.status_code == 400
    assert response.data["code"] == "invalid_rule"
    assert response.data["errors"] == {"rule.conditions[0].value": ["'x' is not of type 'number'"]}
