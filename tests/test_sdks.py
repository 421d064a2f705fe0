"""The real Segment and RudderStack Python SDKs against a live CXO server, checked in the profiles.

Processing runs eagerly when each request commits, so the profile is there when the SDK call returns.
"""

from datetime import UTC, datetime, timedelta

import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient
from segment.analytics.request import APIError

from profiles.models import Event, Identity, Profile, RawEvent
from tests.factories import SourceFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

SDKS = {
    "segment": lambda key, url, **kw: SegmentClient(key, host=url, sync_mode=True, max_retries=1, **kw),
    "rudderstack": lambda key, url, **kw: RudderClient(key, host=url, sync_mode=True, max_retries=1, **kw),
}


@pytest.fixture(params=sorted(SDKS))
def sdk(request, live_server):
    source = SourceFactory()
    errors: list = []

    def make(**kwargs):
        return SDKS[request.param](
            source.write_key, live_server.url, on_error=lambda e, b: errors.append(e), **kwargs
        )

    make.source, make.errors = source, errors
    return make


def profile_of(namespace: str, value: str) -> Profile:
    return Identity.objects.get(namespace=namespace, value=value).profile


def test_anonymous_browsing_then_sign_in_gives_one_profile_with_all_events(sdk):
    client = sdk()
    client.page(anonymous_id="anon-1", name="Home", properties={"url": "https://luma.example/"})
    client.track(anonymous_id="anon-1", event="Product Viewed", properties={"category": "yoga"})
    client.track(anonymous_id="anon-1", event="Product Added", properties={"sku": "Y-1"})
    client.identify(anonymous_id="anon-1", user_id="sarah", traits={"email": "Sarah@Luma.example"})
    assert not sdk.errors
    profile = profile_of("user_id", "sarah")
    assert Profile.objects.count() == 1
    assert profile.event_count == 4
    assert profile_of("email", "sarah@luma.example") == profile
    assert set(profile.events.values_list("event", flat=True)) == {
        "Home",
        "Product Viewed",
        "Product Added",
        "",
    }


def test_two_people_on_one_device_stay_two_profiles(sdk):
    client = sdk()
    client.identify(anonymous_id="family-ipad", user_id="alice")
    client.track(anonymous_id="family-ipad", event="Product Viewed", properties={"who": "alice"})
    client.identify(anonymous_id="family-ipad", user_id="bob")
    client.track(anonymous_id="family-ipad", event="Product Viewed", properties={"who": "bob"})
    alice, bob = profile_of("user_id", "alice"), profile_of("user_id", "bob")
    assert alice != bob
    assert [e.properties["who"] for e in alice.events.filter(type="track")] == ["alice"]
    assert [e.properties["who"] for e in bob.events.filter(type="track")] == ["bob"]


def test_a_retried_batch_is_stored_once(sdk):
    client = sdk()
    for _ in range(3):  # the SDK resends the same messageId after a timeout
        client.track(
            anonymous_id="anon-2", event="Order Completed", message_id="order-42", properties={"revenue": 60}
        )
    assert RawEvent.objects.filter(message_id="order-42").count() == 1
    assert Event.objects.filter(message_id="order-42").count() == 1
    assert profile_of("anonymous_id", "anon-2").event_count == 1


def test_a_late_identify_does_not_overwrite_newer_traits(sdk):
    client = sdk()
    now = datetime.now(UTC)
    client.identify(user_id="u7", traits={"loyalty_tier": "Luma Plus"}, timestamp=now)
    client.identify(
        user_id="u7", traits={"loyalty_tier": "Basic", "city": "Lund"}, timestamp=now - timedelta(hours=2)
    )
    assert profile_of("user_id", "u7").traits == {"loyalty_tier": "Luma Plus", "city": "Lund"}


def test_consent_denied_stores_nothing(sdk):
    client = sdk()
    client.track(anonymous_id="anon-3", event="Product Viewed", context={"consent": {"collect": "n"}})
    client.page(
        anonymous_id="anon-4", name="Home", context={"consent": {"categoryPreferences": {"Analytics": False}}}
    )
    assert not Event.objects.exists()
    assert not RawEvent.objects.exists()


def test_gzip_bodies_are_accepted(sdk):
    client = sdk(gzip=True)
    client.track(anonymous_id="anon-5", event="Products Searched", properties={"query": "yoga mat"})
    assert Event.objects.get().properties == {"query": "yoga mat"}


def test_an_unknown_write_key_is_refused(live_server):
    client = SegmentClient("not-a-key", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:
        client.track(anonymous_id="a", event="X")
    assert refused.value.status == 401
    assert refused.value.code == "invalid_write_key"
    assert not RawEvent.objects.exists()
