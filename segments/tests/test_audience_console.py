"""The audiences console as a marketer uses it."""

import json

import pytest
from django.urls import reverse

from segments.models import Audience, Membership
from tests.factories import IdentityFactory, ProfileFactory

pytestmark = pytest.mark.django_db
RULE = {"type": "trait", "trait": "loyalty_tier", "op": "equals", "value": "Luma Plus"}


@pytest.fixture
def marketer_client(client, make_user):
    client.force_login(make_user("marketer"))
    return client


def test_empty_list_explains_how_to_start(marketer_client):
    assert "No audiences yet" in marketer_client.get(reverse("segments:home")).content.decode()


def test_agents_cannot_open_audiences(client, make_user):
    client.force_login(make_user("agent"))
    assert client.get(reverse("segments:home")).status_code == 403


def test_creating_an_audience_evaluates_it(marketer_client, django_capture_on_commit_callbacks):
    plus = ProfileFactory(display_name="Plus member", traits={"loyalty_tier": "Luma Plus"})
    ProfileFactory(traits={"loyalty_tier": "Basic"})
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            reverse("segments:create"), {"name": "Luma Plus", "rule": json.dumps(RULE)}
        )
    audience = Audience.objects.get(name="Luma Plus")
    assert response["Location"] == reverse("segments:detail", args=[audience.pk])
    assert list(Membership.objects.filter(audience=audience).values_list("profile_id", flat=True)) == [
        plus.pk
    ]
    page = marketer_client.get(response["Location"]).content.decode()
    assert "Plus member" in page and "loyalty_tier" in page


@pytest.mark.parametrize(
    ("rule", "message"),
    [("{not json", "Not valid JSON"), ('{"type": "trait", "trait": "x", "op": "shout"}', "op")],
)
def test_a_bad_rule_is_a_form_error_and_nothing_is_saved(marketer_client, rule, message):
    response = marketer_client.post(reverse("segments:create"), {"name": "Broken", "rule": rule})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Audience.objects.exists()


def test_members_list_has_no_n_plus_one(marketer_client, django_assert_max_num_queries):
    from django.utils import timezone

    audience = Audience.objects.create(name="Everyone", rule=RULE, size=30)
    for n in range(30):
        profile = ProfileFactory(display_name=f"P{n}")
        IdentityFactory(profile=profile, namespace="email", value=f"p{n}@x.example")
        Membership.objects.create(
            audience=audience, profile=profile, entered_at=timezone.now(), entered_how="batch"
        )
    with django_assert_max_num_queries(14):
        assert marketer_client.get(reverse("segments:detail", args=[audience.pk])).status_code == 200
