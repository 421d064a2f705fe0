"""Audience evaluation: batch, streaming and on demand agree, and membership keeps its history."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from profiles.ingestion import validate_message
from profiles.models import Identity
from profiles.processing import process_batch
from segments import services
from segments.models import Audience, AudienceEvaluation, Membership
from segments.tests.test_rules_validation import YOGA_LAPSED
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, tzinfo=UTC)
VIEWED = {"type": "event", "op": "did", "event": "Product Viewed"}


def send(source, *messages):
    """Process messages as the worker does; the after-commit hooks (streaming) run too."""
    accepted = [validate_message(m, received_at=datetime.fromisoformat(m["timestamp"])) for m in messages]
    with TestCase.captureOnCommitCallbacks(execute=True):
        process_batch([(source, a) for a in accepted])


def order(user: str, days_ago: int, category: str, n: int) -> dict:
    return {
        "type": "track",
        "userId": user,
        "event": "Order Completed",
        "messageId": f"{user}-o{n}",
        "timestamp": (NOW - timedelta(days=days_ago)).isoformat(),
        "properties": {"revenue": 50, "products": [{"category": category, "price": 50, "quantity": 1}]},
    }


def members(audience) -> set[str]:
    ids = Membership.objects.filter(audience=audience, exited_at=None).values("profile_id")
    return set(
        Identity.objects.filter(profile_id__in=ids, namespace="user_id").values_list("value", flat=True)
    )


def world(source):
    send(
        source,
        order("sarah", 90, "yoga", 1),
        order("tom", 10, "yoga", 1),
        order("ann", 100, "running", 1),
        order("lea", 200, "yoga", 1),
    )


def make_audience(rule, name="A"):
    audience = Audience.objects.create(name=name, rule=rule)
    return audience


def test_batch_selects_the_scenario_audience(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    world(SourceFactory())
    audience = make_audience(YOGA_LAPSED)
    counts = services.evaluate_audience(audience_id=audience.pk, now=NOW)
    assert members(audience) == {"sarah", "lea"}
    assert counts["entered"] == 2
    audience.refresh_from_db()
    assert audience.size == 2 and audience.last_evaluated_at == NOW


def test_streaming_and_batch_agree_on_the_same_data(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    streamed = make_audience(YOGA_LAPSED, "streamed")
    viewed = make_audience(VIEWED, "viewed")
    source = SourceFactory()
    world(source)  # streaming qualification runs as each batch is processed
    send(
        source,
        {
            "type": "track",
            "userId": "tom",
            "event": "Product Viewed",
            "messageId": "v1",
            "timestamp": (NOW - timedelta(days=1)).isoformat(),
        },
    )
    streaming_result = (members(streamed), members(viewed))
    assert streaming_result == ({"sarah", "lea"}, {"tom"})
    assert set(Membership.objects.values_list("entered_how", flat=True)) == {"streaming"}
    batch_a, batch_b = make_audience(YOGA_LAPSED, "batch-a"), make_audience(VIEWED, "batch-b")
    services.evaluate_audience(audience_id=batch_a.pk, now=NOW)
    services.evaluate_audience(audience_id=batch_b.pk, now=NOW)
    assert (members(batch_a), members(batch_b)) == streaming_result


def test_a_new_order_moves_a_lapsed_buyer_out_and_history_is_kept(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    source = SourceFactory()
    audience = make_audience(YOGA_LAPSED)
    world(source)
    assert "sarah" in members(audience)
    send(source, order("sarah", 1, "yoga", 2))
    assert "sarah" not in members(audience)
    stays = Membership.objects.filter(audience=audience, profile__identities__value="sarah")
    assert stays.count() == 1
    assert stays.get().exited_how == "streaming"


def test_time_alone_moves_people_in_at_the_next_batch():
    source = SourceFactory()
    audience = make_audience(YOGA_LAPSED)
    world(source)
    services.evaluate_audience(audience_id=audience.pk, now=NOW)
    assert "tom" not in members(audience)
    later = NOW + timedelta(days=55)  # tom's order is now 65 days old
    services.evaluate_audience(audience_id=audience.pk, now=later)
    assert "tom" in members(audience)


def test_on_demand_evaluation_of_one_profile(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    world(SourceFactory())
    audience = Audience.objects.create(name="later", rule=YOGA_LAPSED)
    sarah = Identity.objects.get(value="sarah").profile
    assert [a.pk for a in services.evaluate_profile(profile=sarah, now=NOW)] == [audience.pk]
    assert members(audience) == {"sarah"}


def test_create_audience_validates_and_queues_an_evaluation(django_capture_on_commit_callbacks, make_user):
    world(SourceFactory())
    with django_capture_on_commit_callbacks(execute=True):
        audience = services.create_audience(name="Lapsed yoga", rule=YOGA_LAPSED, created_by=make_user())
    job = AudienceEvaluation.objects.get(audience=audience)
    assert job.status == "done" and job.progress == 100
    assert job.entered == len(members(audience))


def test_membership_changes_are_announced_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    from segments.signals import membership_changed

    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    heard = []
    membership_changed.connect(lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="test-heard")
    try:
        audience = make_audience(VIEWED)
        with django_capture_on_commit_callbacks(execute=True):
            send(
                SourceFactory(),
                {
                    "type": "track",
                    "userId": "x1",
                    "event": "Product Viewed",
                    "messageId": "q1",
                    "timestamp": NOW.isoformat(),
                },
            )
    finally:
        membership_changed.disconnect(dispatch_uid="test-heard")
    assert heard and heard[0]["audience_id"] == audience.pk and len(heard[0]["entered"]) == 1


def test_profile_api_shows_current_audiences(api_client_for, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    audience = make_audience(YOGA_LAPSED)
    world(SourceFactory())
    sarah = Identity.objects.get(value="sarah").profile
    body = api_client_for("agent").get(f"/api/profiles/{sarah.pk}/").json()
    assert [a["name"] for a in body["sections"]["audiences"]] == [audience.name]
