"""GDPR access and erasure, checked in the tables themselves."""

import pytest

from profiles.ingestion import accept
from profiles.models import ErasureAudit, Event, Identity, Profile, RawEvent
from profiles.processing import process_pending
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    source = SourceFactory()
    accept(
        source=source,
        messages=[
            {"type": "page", "anonymousId": "anon-s", "name": "Home", "messageId": "g1"},
            {
                "type": "identify",
                "anonymousId": "anon-s",
                "userId": "sarah",
                "messageId": "g2",
                "traits": {"email": "sarah@luma.example", "phone": "+46701234567", "first_name": "Sarah"},
            },
            {
                "type": "track",
                "userId": "sarah",
                "event": "Order Completed",
                "messageId": "g3",
                "properties": {"revenue": 80},
            },
        ],
    )
    accept(
        source=source, messages=[{"type": "track", "userId": "someone-else", "event": "X", "messageId": "g4"}]
    )
    process_pending()
    return Identity.objects.get(namespace="user_id", value="sarah").profile


def test_export_contains_every_event_and_identity(api_client_for, person):
    body = api_client_for("admin").get(f"/api/profiles/{person.pk}/export/").json()
    assert len(body["events"]) == 3
    assert {i["value"] for i in body["profile"]["identities"]} == {
        "anon-s",
        "sarah",
        "sarah@luma.example",
        "+46701234567",
    }
    assert body["profile"]["traits"]["first_name"] == "Sarah"


def test_erasure_removes_the_person_everywhere_and_keeps_an_audit_without_pii(api_client_for, person):
    client = api_client_for("admin")
    response = client.post(f"/api/profiles/{person.pk}/erase/")
    assert response.status_code == 200
    assert not Profile.objects.filter(pk=person.pk).exists()
    assert not Event.objects.filter(profile_id=person.pk).exists()
    assert not Identity.objects.filter(value__in=["anon-s", "sarah", "sarah@luma.example"]).exists()
    assert not RawEvent.objects.filter(message_id__in=["g1", "g2", "g3"]).exists()
    assert RawEvent.objects.filter(message_id="g4").exists()  # other people's data stays
    audit = ErasureAudit.objects.get()
    assert audit.counts["events"] == 3
    assert "sarah" not in str(audit.counts).lower()
    for namespace, value in [
        ("email", "sarah@luma.example"),
        ("user_id", "sarah"),
        ("anonymous_id", "anon-s"),
    ]:
        assert (
            client.get("/api/profiles/lookup/", {"namespace": namespace, "value": value}).status_code == 404
        )
    assert client.get(f"/api/profiles/{person.pk}/").status_code == 404


def test_pending_raw_messages_of_the_person_are_erased_too(api_client_for, person):
    accept(
        source=SourceFactory(),
        messages=[{"type": "track", "userId": "sarah", "event": "Late", "messageId": "g9"}],
    )
    api_client_for("admin").post(f"/api/profiles/{person.pk}/erase/")
    assert not RawEvent.objects.filter(message_id="g9").exists()
