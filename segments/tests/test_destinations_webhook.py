"""Streaming webhook destinations against a real HTTP receiver on 127.0.0.1."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.apps import apps

if "destination" not in apps.get_app_config("segments").models:  # until the audience models have landed
    pytest.skip("destination models are not installed yet", allow_module_level=True)
from django.utils import timezone

from segments.destinations import delivery, services
from segments.destinations.models import Delivery, Destination
from segments.destinations.testing import WebhookReceiver, make_audience
from tests.factories import IdentityFactory, ProfileFactory

pytestmark = pytest.mark.django_db

SHARE = {"share": {"granted": True, "at": "2026-01-01T00:00:00Z"}}
NO_SHARE = {"share": {"granted": False, "at": "2026-01-01T00:00:00Z"}}


def sharing_profile(email: str, **traits):
    profile = ProfileFactory(consent=SHARE, traits=traits)
    IdentityFactory(profile=profile, namespace="email", value=email)
    IdentityFactory(profile=profile, namespace="anonymous_id", value=f"anon-{email}")
    return profile


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def webhook(receiver, settings):
    settings.CXO_WEBHOOK_TIMEOUT_SECONDS = 2
    audience = make_audience("Yoga buyers, lapsed")
    return services.create_destination(
        audience_id=audience.pk, name="CRM", kind="webhook", url=receiver.url, max_attempts=3
    )


def test_receiver_gets_entered_profiles_signed_with_the_secret(
    webhook, receiver, django_capture_on_commit_callbacks
):
    sarah = sharing_profile("sarah@example.com", loyalty_tier="plus", points=120)
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_membership_change(audience_id=webhook.audience_id, entered=[sarah.pk], exited=[])

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    expected = "sha256=" + hmac.new(webhook.secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-CXO-Signature"], expected)
    body = json.loads(request.body)
    assert request.headers["X-CXO-Delivery"] == body["delivery_id"]
    assert body["audience"] == {"id": webhook.audience_id, "name": "Yoga buyers, lapsed"}
    assert body["entered"] == [
        {
            "profile_id": sarah.pk,
            "identities": {"email": ["sarah@example.com"]},  # anonymous_id was not chosen
            "traits": {"loyalty_tier": "plus", "points": 120},
        }
    ]
    assert body["exited"] == []
    assert body["sent_at"]
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_a_wrong_secret_does_not_verify(webhook, receiver, django_capture_on_commit_callbacks):
    sarah = sharing_profile("sarah@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_membership_change(audience_id=webhook.audience_id, entered=[sarah.pk], exited=[])
    request = receiver.requests[0]
    forged = "sha256=" + hmac.new(b"not-the-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-CXO-Signature"] != forged


def test_profiles_without_share_consent_are_not_sent(webhook, receiver, django_capture_on_commit_callbacks):
    allowed = sharing_profile("yes@example.com")
    denied = ProfileFactory(consent=NO_SHARE)
    unknown = ProfileFactory(consent={})  # never stated: not shared (docs/destinations.md)
    IdentityFactory(profile=denied, namespace="email", value="no@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_membership_change(
            audience_id=webhook.audience_id, entered=[allowed.pk, denied.pk], exited=[unknown.pk]
        )

    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0].body)
    assert [entry["profile_id"] for entry in body["entered"]] == [allowed.pk]
    assert body["exited"] == []
    assert b"no@example.com" not in receiver.requests[0].body


def test_a_change_of_only_non_consenting_profiles_sends_nothing(webhook, receiver):
    denied = ProfileFactory(consent=NO_SHARE)
    assert (
        services.queue_membership_change(audience_id=webhook.audience_id, entered=[denied.pk], exited=[])
        == []
    )
    assert receiver.requests == []


def test_changes_are_split_into_batches_of_the_batch_size(receiver, django_capture_on_commit_callbacks):
    audience = make_audience("Big")
    destination = services.create_destination(
        audience_id=audience.pk, name="Batches", kind="webhook", url=receiver.url, batch_size=2
    )
    people = [sharing_profile(f"p{i}@example.com") for i in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        services.queue_membership_change(
            audience_id=destination.audience_id,
            entered=[p.pk for p in people[:3]],
            exited=[p.pk for p in people[3:]],
        )

    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [(len(b["entered"]), len(b["exited"])) for b in bodies] == [(2, 0), (1, 1), (0, 1)]
    assert len({b["delivery_id"] for b in bodies}) == 3


def test_failing_receiver_is_retried_with_back_off_then_dead_lettered(webhook, settings):
    settings.CXO_WEBHOOK_RETRY_BASE_SECONDS = 30
    sarah = sharing_profile("sarah@example.com")
    t0 = timezone.now()
    with WebhookReceiver(statuses=[500]) as failing:
        Destination.objects.filter(pk=webhook.pk).update(url=failing.url)
        (queued,) = services.queue_membership_change(
            audience_id=webhook.audience_id, entered=[sarah.pk], exited=[], now=t0
        )

        first = delivery.send_delivery(delivery_id=queued.pk, now=t0)
        assert first.status == Delivery.Status.RETRYING
        assert first.next_attempt_at == t0 + timedelta(seconds=30)
        assert delivery.due_delivery_ids(now=t0 + timedelta(seconds=29)) == []
        assert delivery.send_delivery(delivery_id=queued.pk, now=t0 + timedelta(seconds=10)) is None

        t1 = t0 + timedelta(seconds=30)
        assert delivery.due_delivery_ids(now=t1) == [queued.pk]
        second = delivery.send_delivery(delivery_id=queued.pk, now=t1)
        assert second.next_attempt_at == t1 + timedelta(seconds=60)  # doubled

        t2 = t1 + timedelta(seconds=60)
        third = delivery.send_delivery(delivery_id=queued.pk, now=t2)
        assert third.status == Delivery.Status.DEAD  # max_attempts = 3
        assert delivery.due_delivery_ids(now=t2 + timedelta(days=1)) == []

    assert len(failing.requests) == 3
    assert {r.headers["X-CXO-Delivery"] for r in failing.requests} == {str(queued.pk)}
    assert len({r.body for r in failing.requests}) == 1  # the same bytes every time
    assert [a.status_code for a in third.attempt_log.order_by("number")] == [500, 500, 500]
    assert third.last_error == "HTTP 500 Internal Server Error"


def test_a_receiver_that_recovers_gets_the_same_delivery_again(webhook, django_capture_on_commit_callbacks):
    sarah = sharing_profile("sarah@example.com")
    t0 = timezone.now()
    with WebhookReceiver(statuses=[503, 200]) as flaky:
        Destination.objects.filter(pk=webhook.pk).update(url=flaky.url)
        with django_capture_on_commit_callbacks(execute=True):
            (queued,) = services.queue_membership_change(
                audience_id=webhook.audience_id, entered=[sarah.pk], exited=[], now=t0
            )
        later = timezone.now() + timedelta(seconds=30)
        for delivery_id in delivery.due_delivery_ids(now=later):
            delivery.send_delivery(delivery_id=delivery_id, now=later)

    queued.refresh_from_db()
    assert queued.status == Delivery.Status.DELIVERED
    assert [r.headers["X-CXO-Delivery"] for r in flaky.requests] == [str(queued.pk)] * 2
    assert flaky.requests[0].body == flaky.requests[1].body
    assert [r.headers["X-CXO-Attempt"] for r in flaky.requests] == ["1", "2"]


def test_an_unreachable_or_slow_receiver_is_a_failed_attempt(webhook, settings):
    settings.CXO_WEBHOOK_TIMEOUT_SECONDS = 0.5
    sarah = sharing_profile("sarah@example.com")
    with WebhookReceiver(delay=2) as slow:
        Destination.objects.filter(pk=webhook.pk).update(url=slow.url)
        (queued,) = services.queue_membership_change(
            audience_id=webhook.audience_id, entered=[sarah.pk], exited=[]
        )
        timed_out = delivery.send_delivery(delivery_id=queued.pk)
    assert timed_out.status == Delivery.Status.RETRYING
    assert "timed out" in timed_out.last_error.lower()

    Destination.objects.filter(pk=webhook.pk).update(url="http://127.0.0.1:9/closed")
    Delivery.objects.filter(pk=queued.pk).update(next_attempt_at=timezone.now())
    refused = delivery.send_delivery(delivery_id=queued.pk)
    assert refused.status == Delivery.Status.RETRYING
    assert refused.last_status_code is None and refused.last_error


def test_a_dead_delivery_can_be_redelivered_with_the_same_id(
    webhook, receiver, django_capture_on_commit_callbacks
):
    sarah = sharing_profile("sarah@example.com")
    (queued,) = services.queue_membership_change(
        audience_id=webhook.audience_id, entered=[sarah.pk], exited=[]
    )
    Delivery.objects.filter(pk=queued.pk).update(status=Delivery.Status.DEAD, attempts=3, total_attempts=3)

    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(delivery_id=queued.pk)

    queued.refresh_from_db()
    assert queued.status == Delivery.Status.DELIVERED
    assert json.loads(receiver.requests[0].body)["delivery_id"] == str(queued.pk)
    assert queued.attempt_log.get().number == 4


def test_a_paused_webhook_keeps_its_queue_and_sends_it_on_resume(
    webhook, receiver, django_capture_on_commit_callbacks
):
    sarah = sharing_profile("sarah@example.com")
    services.queue_membership_change(audience_id=webhook.audience_id, entered=[sarah.pk], exited=[])
    services.set_active(destination_id=webhook.pk, is_active=False)
    assert delivery.due_delivery_ids() == []
    assert receiver.requests == []

    services.set_active(destination_id=webhook.pk, is_active=True)
    assert len(receiver.requests) == 1


def test_membership_changed_signal_queues_deliveries(webhook, receiver, django_capture_on_commit_callbacks):
    from segments.signals import membership_changed

    sarah = sharing_profile("sarah@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        membership_changed.send(
            sender=None, audience_id=webhook.audience_id, entered=[sarah.pk], exited=[], how="streaming"
        )
    assert receiver.wait_for(lambda requests: len(requests) == 1, timeout=5)
    assert json.loads(receiver.requests[0].body)["entered"][0]["profile_id"] == sarah.pk


def test_a_test_delivery_is_signed_and_marked_as_a_test(
    webhook, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_test(destination_id=webhook.pk)
    body = json.loads(receiver.requests[0].body)
    assert body["test"] is True
    assert body["entered"][0]["identities"] == {"email": ["test@example.com"]}
    assert Delivery.objects.get().is_test


def test_erasing_a_profile_removes_it_from_stored_deliveries(webhook, receiver):
    from profiles.signals import profile_erased

    sarah = sharing_profile("sarah@example.com")
    other = sharing_profile("other@example.com")
    (shared,) = services.queue_membership_change(
        audience_id=webhook.audience_id, entered=[sarah.pk, other.pk], exited=[]
    )
    Destination.objects.filter(pk=webhook.pk).update(batch_size=1)
    alone, _ = services.queue_membership_change(
        audience_id=webhook.audience_id, entered=[sarah.pk, other.pk], exited=[]
    )

    profile_erased.send(sender=None, profile_id=sarah.pk)

    shared.refresh_from_db()
    alone.refresh_from_db()
    assert "sarah@example.com" not in shared.body and "other@example.com" in shared.body
    assert shared.entered_count == 1
    assert alone.status == Delivery.Status.DEAD  # nothing left to send
    assert "sarah@example.com" not in alone.body
