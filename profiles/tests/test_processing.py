"""Identity resolution, traits, consent and the event store, through process_messages."""

from datetime import UTC, datetime, timedelta

import pytest

from profiles.identity import normalize
from profiles.messages import AcceptedMessage
from profiles.models import Event, Identity, Profile, ProfileMerge
from profiles.processing import process_messages
from tests.factories import SourceFactory

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def msg(type: str, minute: int, **payload) -> AcceptedMessage:
    when = T0 + timedelta(minutes=minute)
    payload = {"type": type, "messageId": f"{type}-{minute}-{id(payload)}", **payload}
    return AcceptedMessage(
        type=type, message_id=payload["messageId"], payload=payload, timestamp=when, received_at=when
    )


def profile_of(namespace: str, value: str) -> Profile:
    return Identity.objects.select_related("profile").get(namespace=namespace, value=value).profile


def test_anonymous_browsing_then_sign_in_is_one_profile_with_all_events():
    source = SourceFactory()
    process_messages(
        source=source,
        messages=[
            msg("page", 0, anonymousId="a1", name="Home"),
            msg("track", 1, anonymousId="a1", event="Product Viewed"),
        ],
    )
    anonymous = profile_of("anonymous_id", "a1")
    assert not anonymous.is_known
    process_messages(
        source=source,
        messages=[
            msg("identify", 2, anonymousId="a1", userId="u1", traits={"email": "Sarah@Luma.example"}),
            msg("track", 3, userId="u1", event="Order Completed"),
        ],
    )
    profile = profile_of("user_id", "u1")
    assert Profile.objects.count() == 1
    assert profile.is_known
    assert profile.event_count == 4
    assert set(profile.events.values_list("type", flat=True)) == {"page", "track", "identify"}
    assert profile_of("email", "sarah@luma.example") == profile
    assert profile.pk == anonymous.pk  # a first sign-in makes the anonymous profile known


def test_sign_in_on_a_new_device_merges_the_anonymous_profile_into_the_known_one():
    source = SourceFactory()
    process_messages(source=source, messages=[msg("identify", 0, anonymousId="laptop", userId="u1")])
    process_messages(source=source, messages=[msg("track", 1, anonymousId="phone", event="Product Viewed")])
    anonymous = profile_of("anonymous_id", "phone")
    process_messages(source=source, messages=[msg("identify", 2, anonymousId="phone", userId="u1")])
    known = profile_of("user_id", "u1")
    assert Profile.objects.count() == 1
    assert known.event_count == 3
    assert profile_of("anonymous_id", "phone") == known
    merge = ProfileMerge.objects.get()
    assert (merge.merged_profile_id, merge.into_profile_id, merge.events_moved) == (anonymous.pk, known.pk, 1)


def test_sign_in_within_one_batch_merges_too():
    process_messages(
        source=SourceFactory(),
        messages=[
            msg("track", 0, anonymousId="a1", event="Product Viewed"),
            msg("identify", 1, anonymousId="a1", userId="u1"),
        ],
    )
    assert Profile.objects.count() == 1
    assert Profile.objects.get().event_count == 2
    assert ProfileMerge.objects.count() in (0, 1)


def test_two_people_on_one_device_stay_two_profiles():
    source = SourceFactory()
    process_messages(
        source=source,
        messages=[
            msg("identify", 0, anonymousId="shared", userId="alice"),
            msg("track", 1, anonymousId="shared", event="Product Viewed", properties={"who": "alice"}),
        ],
    )
    process_messages(
        source=source,
        messages=[
            msg("identify", 2, anonymousId="shared", userId="bob"),
            msg("track", 3, anonymousId="shared", event="Product Viewed", properties={"who": "bob"}),
        ],
    )
    alice, bob = profile_of("user_id", "alice"), profile_of("user_id", "bob")
    assert alice != bob
    assert Profile.objects.count() == 2
    assert list(alice.events.filter(type="track").values_list("properties__who", flat=True)) == ["alice"]
    assert list(bob.events.filter(type="track").values_list("properties__who", flat=True)) == ["bob"]
    assert profile_of("anonymous_id", "shared") == bob  # the device follows the latest sign-in


def test_an_email_claimed_by_another_known_person_does_not_merge_them():
    process_messages(
        source=SourceFactory(),
        messages=[
            msg("identify", 0, userId="u1", traits={"email": "same@example.com"}),
            msg("identify", 1, userId="u2", traits={"email": "same@example.com"}),
        ],
    )
    assert Profile.objects.count() == 2
    assert profile_of("email", "same@example.com") == profile_of("user_id", "u1")


def test_late_identify_does_not_overwrite_newer_traits():
    source = SourceFactory()
    process_messages(source=source, messages=[msg("identify", 10, userId="u1", traits={"tier": "Luma Plus"})])
    process_messages(
        source=source, messages=[msg("identify", 5, userId="u1", traits={"tier": "Basic", "city": "Lund"})]
    )
    profile = profile_of("user_id", "u1")
    assert profile.traits == {"tier": "Luma Plus", "city": "Lund"}


def test_collect_denied_stores_no_events_and_later_events_are_dropped_too():
    source = SourceFactory()
    result = process_messages(
        source=source,
        messages=[
            msg("track", 0, anonymousId="a1", event="Product Viewed", context={"consent": {"collect": "n"}}),
            msg("track", 1, anonymousId="a1", event="Product Added"),
        ],
    )
    assert result.dropped == 2
    assert Event.objects.count() == 0
    assert profile_of("anonymous_id", "a1").consent["collect"]["granted"] is False


def test_consent_latest_statement_per_purpose_wins():
    source = SourceFactory()
    process_messages(
        source=source,
        messages=[
            msg("identify", 5, userId="u1", context={"consent": {"email": True, "sms": "y"}}),
            msg("identify", 1, userId="u1", context={"consent": {"email": False}}),
        ],
    )
    consent = profile_of("user_id", "u1").consent
    assert consent["email"]["granted"] is True
    assert consent["sms"]["granted"] is True


def test_alias_links_the_previous_anonymous_id():
    source = SourceFactory()
    process_messages(source=source, messages=[msg("track", 0, anonymousId="a9", event="Product Viewed")])
    process_messages(source=source, messages=[msg("alias", 1, previousId="a9", userId="u9")])
    assert Profile.objects.count() == 1
    assert profile_of("user_id", "u9").event_count == 2


def test_channel_and_event_name_are_stored():
    process_messages(
        source=SourceFactory(),
        messages=[
            msg("track", 0, anonymousId="a1", event="Call Completed", context={"channel": "call_center"}),
            msg("page", 1, anonymousId="a1", name="Home", context={"library": {"name": "analytics.js"}}),
        ],
    )
    assert set(Event.objects.values_list("event", "channel")) == {
        ("Call Completed", "call_center"),
        ("Home", "web"),
    }


@pytest.mark.parametrize(
    ("namespace", "raw", "stored"),
    [
        ("email", "  Sarah@Luma.Example ", "sarah@luma.example"),
        ("phone", "+46 70-123 45 67", "+46701234567"),
        ("phone", "0046701234567", "+46701234567"),
        ("phone", "070 123 45 67", "0701234567"),
        ("email", "not-an-email", ""),
    ],
)
def test_identifiers_are_normalized(namespace, raw, stored):
    assert normalize(namespace, raw) == stored


def test_a_message_that_fails_processing_is_marked_failed_and_the_rest_go_through(monkeypatch):
    from profiles import ingestion, processing
    from profiles.models import RawEvent

    monkeypatch.setattr(ingestion, "schedule_processing", lambda: None)  # leave the rows pending
    real_channel = processing.message_channel

    def channel(payload):
        if payload.get("event") == "Boom":
            raise ValueError("this message cannot be stored")
        return real_channel(payload)

    monkeypatch.setattr(processing, "message_channel", channel)
    source = SourceFactory()
    ingestion.accept(
        source=source,
        messages=[
            {"type": "track", "anonymousId": "f1", "event": "Fine", "messageId": "ok-1"},
            {"type": "track", "anonymousId": "f2", "event": "Boom", "messageId": "bad-1"},
            {"type": "track", "anonymousId": "f1", "event": "Also fine", "messageId": "ok-2"},
        ],
    )
    assert processing.process_pending() == 3
    statuses = dict(RawEvent.objects.values_list("message_id", "status"))
    assert statuses == {"ok-1": "processed", "ok-2": "processed", "bad-1": "failed"}
    assert "cannot be stored" in RawEvent.objects.get(message_id="bad-1").error
    assert sorted(Event.objects.values_list("event", flat=True)) == ["Also fine", "Fine"]
    assert profile_of("anonymous_id", "f1").event_count == 2
    assert processing.process_pending() == 0  # nothing is left pending, the failed row is not retried
