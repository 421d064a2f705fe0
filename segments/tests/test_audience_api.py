"""The audiences API as a script would use it."""

import pytest

from segments.models import Audience
from tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db
RULE = {"type": "trait", "trait": "loyalty_tier", "op": "equals", "value": "Luma Plus"}


def test_create_evaluate_poll_and_list_members(api_client_for, django_capture_on_commit_callbacks):
    plus = ProfileFactory(traits={"loyalty_tier": "Luma Plus"})
    ProfileFactory(traits={"loyalty_tier": "Basic"})
    client = api_client_for("marketer")
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/segments/audiences/", {"name": "Plus", "rule": RULE}, format="json")
    assert created.status_code == 201
    audience_id = created.json()["id"]
    assert "loyalty_tier" in created.json()["description_in_words"]
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/api/segments/audiences/{audience_id}/evaluate/")
    assert started.status_code == 202
    job = client.get(f"/api/segments/jobs/{started.json()['job_id']}/").json()
    assert job["status"] == "done" and job["progress"] == 100
    members = client.get(f"/api/segments/audiences/{audience_id}/members/").json()
    assert [m["id"] for m in members["results"]] == [plus.pk]


def test_an_invalid_rule_is_a_400_with_the_field_path(api_client_for):
    bad = {"type": "and", "conditions": [RULE, {"type": "trait", "trait": "x", "op": "shout"}]}
    response = api_client_for("marketer").post(
        "/api/segments/audiences/", {"name": "Bad", "rule": bad}, format="json"
    )
    assert response.status_code == 400
    assert any(key.startswith("rule.conditions[1]") for key in response.json()["errors"])
    assert not Audience.objects.exists()


def test_agents_may_not_manage_audiences(api_client_for):
    assert api_client_for("agent").get("/api/segments/audiences/").status_code == 403


def test_unknown_audience_is_404(api_client_for):
    assert api_client_for("marketer").get("/api/segments/audiences/999/").status_code == 404


def test_patch_and_delete(api_client_for, django_capture_on_commit_callbacks):
    client = api_client_for("admin")
    audience = Audience.objects.create(name="Old", rule=RULE)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.patch(f"/api/segments/audiences/{audience.pk}/", {"name": "New"}, format="json").json()[
                "name"
            ]
            == "New"
        )
    assert client.delete(f"/api/segments/audiences/{audience.pk}/").status_code == 204
    assert not Audience.objects.exists()
