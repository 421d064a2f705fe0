"""The collection API's rules: durable dedup, clock skew, field-named 400s, 401, 429, never a 500."""

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.collection import debugger
from profiles.models import RawEvent, Source
from profiles.sources import rotate_write_key
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return SourceFactory()


def post(client, path, body, key=None, *, raw=None, **headers):
    data = raw if raw is not None else json.dumps(body)
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    return client.post(path, data, content_type="application/json", **headers)


def track(**extra):
    return {"anonymousId": "a1", "event": "Product Viewed", "messageId": "m1", **extra}


def test_a_valid_track_is_stored(client, source):
    response = post(client, "/v1/track", track(), source.write_key)
    assert response.status_code == 200
    assert response.json()["stored"] == 1
    assert RawEvent.objects.get().payload["event"] == "Product Viewed"


def test_write_key_in_the_body_works(client, source):
    assert post(client, "/v1/track", track(writeKey=source.write_key)).status_code == 200


@pytest.mark.parametrize("key", ["wrong", "", None])
def test_unknown_write_key_is_401(client, source, key):
    response = post(client, "/v1/track", track(), key)
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "writeKey"


def test_a_rotated_key_stops_working_at_once(client, source):
    old = source.write_key
    assert post(client, "/v1/track", track(), old).status_code == 200
    rotate_write_key(source=source)
    assert post(client, "/v1/track", track(messageId="m2"), old).status_code == 401
    assert post(client, "/v1/track", track(messageId="m3"), source.write_key).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "X"}, "userId"),
        ({"anonymousId": "a", "event": ""}, "event"),
        ({"anonymousId": "a", "event": 5}, "event"),
        ({"anonymousId": ["a"], "event": "X"}, "anonymousId"),
        ({"anonymousId": "a", "event": "X", "properties": "cheap"}, "properties"),
        ({"anonymousId": "a", "event": "X", "timestamp": "yesterday"}, "timestamp"),
        ({"anonymousId": "a" * 300, "event": "X"}, "anonymousId"),
    ],
)
def test_bad_messages_get_a_400_naming_the_field(client, source, body, field):
    response = post(client, "/v1/track", body, source.write_key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not RawEvent.objects.exists()


def test_malformed_json_is_a_400(client, source):
    response = post(client, "/v1/track", None, source.write_key, raw="{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_a_message_over_32kb_is_refused(client, source):
    response = post(client, "/v1/track", track(properties={"blob": "x" * 33_000}), source.write_key)
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"


def test_a_batch_over_500kb_is_refused_even_gzipped(client, source):
    batch = [track(messageId=f"m{i}", properties={"blob": "y" * 20_000}) for i in range(30)]
    body = gzip.compress(json.dumps({"batch": batch}).encode())
    assert len(body) < 100_000
    response = post(client, "/v1/batch", None, source.write_key, raw=body, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"


def test_an_oversized_message_inside_a_batch_is_rejected_alone(client, source):
    batch = [
        track(type="track", messageId="small"),
        track(type="track", messageId="big", properties={"blob": "z" * 40_000}),
    ]
    response = post(client, "/v1/batch", {"batch": batch}, source.write_key)
    assert response.status_code == 200
    assert response.json()["rejected"][0]["field"] == "batch[1].message"
    assert list(RawEvent.objects.values_list("message_id", flat=True)) == ["small"]


def test_one_bad_message_in_a_batch_keeps_the_valid_ones(client, source):
    batch = [
        {"type": "track", **track(messageId="ok-1")},
        {"type": "track", "event": "X", "messageId": "bad"},
        {"type": "identify", "userId": "u1", "messageId": "ok-2"},
        {"type": "launch", "userId": "u1"},
    ]
    response = post(client, "/v1/batch", {"batch": batch}, source.write_key)
    assert response.status_code == 200
    body = response.json()
    assert body["stored"] == 2
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "batch[1].userId"),
        (3, "batch[3].type"),
    ]
    assert set(RawEvent.objects.values_list("message_id", flat=True)) == {"ok-1", "ok-2"}


def test_a_batch_of_only_bad_messages_is_a_400(client, source):
    response = post(client, "/v1/batch", {"batch": [{"type": "track"}]}, source.write_key)
    assert response.status_code == 400


def test_retried_batch_is_stored_once(client, source):
    batch = {"batch": [{"type": "track", **track(messageId=f"m{i}")} for i in range(5)]}
    first = post(client, "/v1/batch", batch, source.write_key).json()
    again = post(client, "/v1/batch", batch, source.write_key).json()
    assert (first["stored"], again["stored"], again["duplicates"]) == (5, 0, 5)
    assert RawEvent.objects.count() == 5


def test_same_message_id_from_another_source_is_a_different_message(client, source):
    other = SourceFactory()
    post(client, "/v1/track", track(), source.write_key)
    post(client, "/v1/track", track(), other.write_key)
    assert RawEvent.objects.count() == 2


def test_clock_skew_is_corrected_the_spec_way(client, source):
    # The device clock is 1 hour fast: it stamped the event 10 s before sending it.
    device_now = datetime.now(UTC) + timedelta(hours=1)
    body = track(timestamp=(device_now - timedelta(seconds=10)).isoformat(), sentAt=device_now.isoformat())
    post(client, "/v1/track", body, source.write_key)
    raw = RawEvent.objects.get()
    assert abs((raw.received_at - raw.timestamp).total_seconds() - 10) < 0.01
    assert not raw.timestamp_clamped


def test_batch_level_sent_at_applies_to_its_messages(client, source):
    device_now = datetime.now(UTC) - timedelta(days=2)
    body = {
        "batch": [{"type": "track", **track(timestamp=(device_now - timedelta(minutes=5)).isoformat())}],
        "sentAt": device_now.isoformat(),
    }
    post(client, "/v1/batch", body, source.write_key)
    raw = RawEvent.objects.get()
    assert abs((raw.received_at - raw.timestamp).total_seconds() - 300) < 0.01


def test_a_far_future_timestamp_is_clamped_and_flagged(client, source):
    post(client, "/v1/track", track(timestamp="2099-01-01T00:00:00Z"), source.write_key)
    raw = RawEvent.objects.get()
    assert raw.timestamp_clamped
    assert raw.timestamp == raw.received_at


def test_rate_limit_gives_429_with_retry_after(client, source):
    source.rate_limit = 3
    source.save()
    batch = {"batch": [{"type": "track", **track(messageId=f"m{i}")} for i in range(2)]}
    assert post(client, "/v1/batch", batch, source.write_key).status_code == 200
    refused = post(client, "/v1/batch", batch, source.write_key)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"


def test_get_is_405(client, source):
    assert client.get("/v1/track").status_code == 405


def test_the_debugger_shows_accepted_and_rejected_messages(client, source):
    post(client, "/v1/batch", {"batch": [{"type": "track", **track()}, {"type": "track"}]}, source.write_key)
    entries = debugger.recent(source.pk)
    assert {e["status"] for e in entries} == {"accepted", "rejected"}
    rejected = next(e for e in entries if e["status"] == "rejected")
    assert rejected["errors"][0]["field"] == "userId"


def test_create_source_prints_the_write_key_last(capsys):
    call_command("create_source", "Luma web")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert Source.objects.get(write_key=key).name == "Luma web"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, path=st.sampled_from(["/v1/track", "/v1/identify", "/v1/batch", "/v1/alias"]))
def test_no_input_produces_a_500(client, source, body, path):
    response = post(client, path, body, source.write_key)
    assert response.status_code in (200, 400)
