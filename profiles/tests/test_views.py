"""The console's profile, agent and source pages, as each role sees them."""

import pytest
from django.urls import reverse

from profiles.collection import debugger
from profiles.models import Source
from tests.factories import EventFactory, IdentityFactory, ProfileFactory, SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sarah():
    profile = ProfileFactory(
        display_name="Sarah Lind",
        is_known=True,
        traits={"loyalty_tier": "Luma Plus"},
        consent={"email": {"granted": False, "at": "2026-11-01T10:00:00+00:00"}},
    )
    IdentityFactory(profile=profile, namespace="email", value="sarah@luma.example")
    IdentityFactory(profile=profile, namespace="phone", value="+46701234567")
    EventFactory(profile=profile, event="Order Completed", channel="store", properties={"revenue": 120})
    return profile


def login(client, make_user, role):
    client.force_login(make_user(role))
    return client


@pytest.mark.parametrize("query", ["sarah@luma.example", "SARAH@LUMA", "+46 70 123 45 67", "Lind"])
def test_search_finds_a_profile_by_email_phone_or_name(client, make_user, sarah, query):
    page = login(client, make_user, "marketer").get(reverse("profiles:search"), {"q": query}).content.decode()
    assert reverse("profiles:detail", args=[sarah.pk]) in page


def test_search_says_so_when_nothing_matches(client, make_user, sarah):
    page = login(client, make_user, "agent").get(reverse("profiles:search"), {"q": "nobody"}).content.decode()
    assert "No profile matches" in page


def test_search_list_has_no_n_plus_one(client, make_user, django_assert_max_num_queries):
    for n in range(30):
        IdentityFactory(
            profile=ProfileFactory(display_name=f"P{n}"), namespace="email", value=f"p{n}@x.example"
        )
    client = login(client, make_user, "marketer")
    with django_assert_max_num_queries(10):
        assert client.get(reverse("profiles:search")).status_code == 200


def test_profile_page_shows_identities_traits_consent_and_timeline(client, make_user, sarah):
    page = login(client, make_user, "agent").get(reverse("profiles:detail", args=[sarah.pk])).content.decode()
    for text in ("sarah@luma.example", "+46701234567", "Luma Plus", "denied", "Order Completed", "store"):
        assert text in page


def test_timeline_is_paginated_newest_first(client, make_user, sarah, django_assert_max_num_queries):
    from datetime import UTC, datetime, timedelta

    for day in range(25):
        EventFactory(
            profile=sarah,
            event=f"Day {day:02d}",
            timestamp=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day),
        )
    client = login(client, make_user, "marketer")
    with django_assert_max_num_queries(12):
        first = client.get(reverse("profiles:detail", args=[sarah.pk])).content.decode()
    assert "Day 24" not in first or first.index("Day 24") < first.index("Day 10")
    older = client.get(
        reverse("profiles:detail", args=[sarah.pk]), {"page": 2}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Day 00" in older and "<html" not in older


def test_unknown_profile_page_is_a_friendly_404(client, make_user):
    response = login(client, make_user, "agent").get(reverse("profiles:detail", args=[987654]))
    assert response.status_code == 404
    assert "merged" in response.content.decode()


def test_agent_console_jumps_straight_to_a_single_match(client, make_user, sarah):
    response = login(client, make_user, "agent").get(reverse("profiles:agent"), {"q": "+46701234567"})
    assert response.status_code == 302
    assert response["Location"] == reverse("profiles:detail", args=[sarah.pk])


def test_marketers_cannot_open_the_agent_console_and_agents_cannot_open_sources(client, make_user):
    assert login(client, make_user, "marketer").get(reverse("profiles:agent")).status_code == 403
    assert login(client, make_user, "agent").get(reverse("profiles:source_list")).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, sarah):
    for url in (
        reverse("profiles:search"),
        reverse("profiles:detail", args=[sarah.pk]),
        reverse("profiles:source_list"),
    ):
        assert client.get(url)["Location"].startswith(reverse("login"))


def test_creating_a_source_from_the_console(client, make_user):
    client = login(client, make_user, "admin")
    response = client.post(reverse("profiles:source_list"), {"name": "Luma app"})
    source = Source.objects.get(name="Luma app")
    assert response["Location"] == reverse("profiles:source_detail", args=[source.pk])


def test_a_duplicate_source_name_is_a_form_error(client, make_user):
    SourceFactory(name="Luma web")
    response = login(client, make_user, "admin").post(reverse("profiles:source_list"), {"name": "luma web"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_rotating_the_key_from_the_console_changes_it(client, make_user):
    source = SourceFactory()
    old = source.write_key
    login(client, make_user, "admin").post(reverse("profiles:source_rotate_key", args=[source.pk]))
    source.refresh_from_db()
    assert source.write_key != old


def test_debugger_partial_shows_rejected_messages_with_their_errors(client, make_user):
    source = SourceFactory()
    from django.utils import timezone

    debugger.record(
        source.pk,
        [
            debugger.entry(
                received_at=timezone.now(),
                status="rejected",
                message={"type": "track", "event": "X"},
                errors=[{"field": "userId", "message": "Either userId or anonymousId is required"}],
            )
        ],
    )
    page = (
        login(client, make_user, "marketer")
        .get(reverse("profiles:source_debugger", args=[source.pk]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "rejected" in page and "Either userId or anonymousId is required" in page


def test_dashboard_counts_match_the_data(client, make_user, sarah):
    from django.utils import timezone

    ProfileFactory()  # an anonymous one
    EventFactory(
        profile=sarah,
        timestamp=timezone.now(),
        event="Order Completed",
        properties={"revenue": 30},
        context={"campaign": {"name": "Yoga spring"}},
    )
    response = login(client, make_user, "agent").get(reverse("home"))
    context = response.context
    assert context["counts"]["profiles"] == 2
    assert context["counts"]["known"] == 1
    assert context["revenue"]["total"] == 150
    assert context["campaigns"][0]["campaign"] == "Yoga spring"
    assert "Yoga spring" in response.content.decode()


def test_dashboard_counts_partial_for_htmx_polling(client, make_user):
    response = login(client, make_user, "marketer").get(reverse("home"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="counts"' in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_empty_dashboard_explains_what_to_do(client, make_user):
    body = login(client, make_user, "marketer").get(reverse("home")).content.decode()
    assert "No events yet" in body
