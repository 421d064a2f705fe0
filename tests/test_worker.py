"""Production mode end to end: the HTTP API stores, a real Celery worker processes into profiles."""

import base64
import json
import time
import urllib.request

import pytest

from profiles.models import Identity, RawEvent
from tests.factories import SourceFactory

pytestmark = [pytest.mark.worker, pytest.mark.timeout(120)]


def send(url: str, key: str, path: str, body: dict) -> int:
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def wait_for(predicate, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_turns_accepted_events_into_a_profile(celery_worker_process, live_server):
    source = SourceFactory()
    assert (
        send(
            live_server.url,
            source.write_key,
            "/v1/track",
            {"anonymousId": "w-anon", "event": "Product Viewed", "messageId": "w1"},
        )
        == 200
    )
    assert (
        send(
            live_server.url,
            source.write_key,
            "/v1/identify",
            {
                "anonymousId": "w-anon",
                "userId": "w-user",
                "traits": {"email": "w@luma.example"},
                "messageId": "w2",
            },
        )
        == 200
    )
    # Durable before processed: the 200 came back with the raw messages committed.
    assert RawEvent.objects.count() == 2
    assert wait_for(lambda: not RawEvent.objects.filter(status=RawEvent.Status.PENDING).exists())
    profile = Identity.objects.get(namespace="user_id", value="w-user").profile
    assert profile.event_count == 2
    assert Identity.objects.get(namespace="email", value="w@luma.example").profile_id == profile.pk
