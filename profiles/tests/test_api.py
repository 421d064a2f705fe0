"""The profile API as a token-holding client sees it."""

import pytest
from django.urls import reverse

from profiles.models import Identity
from tests.factories import EventFactory, IdentityFactory, ProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sarah():
    profile = ProfileFactory(
        display_name="Sarah",
        traits={"loyalty_tier": "Luma Plus"},
        consent={"email": {"granted": True, "at": "2026-11-01T00:00:00+00:00"}},
    )
    IdentityFactory(profile=profile, namespace="email", value="sarah@luma.example")
    IdentityFactory(profile=profile, namespace="phone", value="+46701234567")
    return profile


def test_lookup_by_email_finds_the_profile_whatever_the_case(api_client_for, sarah):
    response = api_client_for("agent").get(
        "/api/profiles/lookup/", {"namespace": "email", "value": "SARAH@luma.example"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == sarah.pk
    assert body["traits"] == {"loyalty_tier": "Luma Plus"}
    assert {i["namespace"] for i in body["identities"]} == {"email", "phone"}


def test_lookup_by_phone_accepts_any_formatting(api_client_for, sarah):
    response = api_client_for("marketer").get(
        "/api/profiles/lookup/", {"namespace": "phone", "value": "+46 70 123 45 67"}
    )
    assert response.json()["id"] == sarah.pk


def test_lookup_of_an_unknown_identity_is_404(api_client_for, sarah):
    response = api_client_for("agent").get(
        "/api/profiles/lookup/", {"namespace": "email", "value": "who@x.example"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"namespace": "twitter", "value": "x"}, "namespace"),
        ({"namespace": "email"}, "value"),
    ],
)
def test_lookup_with_bad_parameters_is_400_naming_the_field(api_client_for, params, field):
    response = api_client_for("agent").get("/api/profiles/lookup/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_requests_without_a_token_are_401(client, sarah):
    assert client.get(f"/api/profiles/{sarah.pk}/").status_code in (401, 403)
    from rest_framework.test import APIClient

    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert anonymous.get(f"/api/profiles/{sarah.pk}/").status_code == 401


def test_detail_shows_identities_traits_consent_and_counts(api_client_for, sarah):
    body = api_client_for("marketer").get(f"/api/profiles/{sarah.pk}/").json()
    assert body["consent"]["email"]["granted"] is True
    assert body["event_count"] == 0
    assert "sections" in body


def test_unknown_profile_is_404(api_client_for):
    assert api_client_for("agent").get("/api/profiles/999999/").status_code == 404


def test_events_are_newest_first_and_cursor_paginated(api_client_for, sarah, django_assert_max_num_queries):
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 10, 1, tzinfo=UTC)
    for day in range(7):
        EventFactory(profile=sarah, timestamp=start + timedelta(days=day), event=f"day {day}")
    client = api_client_for("agent")
    with django_assert_max_num_queries(8):
        first = client.get(f"/api/profiles/{sarah.pk}/events/", {"page_size": 3}).json()
    assert set(first) == {"next", "previous", "results"}
    assert [e["event"] for e in first["results"]] == ["day 6", "day 5", "day 4"]
    assert {"id", "type", "event", "timestamp", "received_at", "properties", "context", "source"} <= set(
        first["results"][0]
    )
    second = client.get(first["next"]).json()
    assert [e["event"] for e in second["results"]] == ["day 3", "day 2", "day 1"]


def test_only_admins_may_erase(api_client_for, sarah):
    assert api_client_for("marketer").post(f"/api/profiles/{sarah.pk}/erase/").status_code == 403
    assert api_client_for("agent").post(f"/api/profiles/{sarah.pk}/erase/").status_code == 403
    assert Identity.objects.filter(profile=sarah).exists()


def test_schema_documents_the_profile_endpoints(api_client_for):
    schema = api_client_for("marketer").get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/profiles/lookup/" in schema["paths"]
    assert "/api/profiles/{profile_id}/erase/" in schema["paths"]


def test_api_docs_page_is_served_without_a_cdn(client, make_user):
    client.force_login(make_user("marketer"))
    page = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()
    client.force_login(make_user("agent"))
    assert client.get(reverse("api-docs")).status_code == 403
