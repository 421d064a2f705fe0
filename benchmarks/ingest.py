"""Ingestion throughput on PostgreSQL: accepted events/s through /v1/batch, processed events/s, and a
plain bulk INSERT of the same rows for comparison.

    .venv/bin/python benchmarks/ingest.py [--seconds 20] [--clients 4] [--workers 3]

Starts gunicorn on loopback in production mode with processing queued (not eager), so acceptance is
measured alone; the load generator runs on the same 2-core machine. Results go to docs/benchmarks.md.
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import PYTHON, ROOT, production_env, scratch_database, write_section  # noqa: E402

PORT = 8931
BATCH = 100


def make_batch(client: int, n: int) -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    messages = []
    for i in range(BATCH):
        person = (client * 7919 + n * 31 + i) % 20000
        messages.append(
            {
                "type": "track",
                "messageId": str(uuid.uuid4()),
                "anonymousId": f"bench-anon-{person}",
                "event": "Product Viewed",
                "timestamp": now,
                "properties": {
                    "product_id": f"P{i:04d}",
                    "category": "yoga",
                    "price": 55.95,
                    "name": "Yoga Mat (sage)",
                },
                "context": {
                    "channel": "web",
                    "library": {"name": "analytics.js", "version": "5.2.0"},
                    "page": {"path": "/products/yoga-mat", "url": "https://luma.example/products/yoga-mat"},
                    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0",
                },
            }
        )
    return json.dumps({"batch": messages, "sentAt": now}).encode()


def client_loop(args) -> tuple[int, list[float], int]:
    client, key, seconds = args
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    latencies, events, errors, n = [], 0, 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = make_batch(client, n)
        n += 1
        started = time.perf_counter()
        conn.request("POST", "/v1/batch", body, {"Content-Type": "application/json", "Authorization": auth})
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status == 200:
            events += BATCH
        else:
            errors += 1
    return events, latencies, errors


def bulk_insert_rate(url: str, rows: list[tuple], clients: int) -> float:
    """Plain multi-row INSERTs of the same rows (100 per statement, one commit each), same concurrency."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute("CREATE TABLE bench_raw (LIKE profiles_rawevent INCLUDING ALL)")
    chunks = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    share = [chunks[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        pool.starmap(_insert_chunks, [(url, part) for part in share])
    elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def _insert_chunks(url: str, chunks: list[list[tuple]]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for chunk in chunks:
            values = ", ".join(["(%s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s)"] * len(chunk))
            params = [value for row in chunk for value in row]
            conn.execute(
                "INSERT INTO bench_raw (source_id, message_id, type, payload, received_at, timestamp, "
                f"timestamp_clamped, status, error) VALUES {values} ON CONFLICT (source_id, message_id) DO NOTHING",
                params,
            )
            conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--process-limit", type=int, default=60000, help="raw events to process into profiles"
    )
    options = parser.parse_args()

    url = scratch_database("cxo_bench_ingest")
    env = production_env(url, redis_db=14)
    out = subprocess.run(
        [PYTHON, "manage.py", "create_source", "bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    key = out.strip().splitlines()[-1]
    gunicorn = str(Path(PYTHON).with_name("gunicorn"))
    server = subprocess.Popen(
        [
            gunicorn,
            "cxo_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(options.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        started = time.perf_counter()
        with multiprocessing.Pool(options.clients) as pool:
            results = pool.map(client_loop, [(c, key, options.seconds) for c in range(options.clients)])
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    events = sum(r[0] for r in results)
    latencies = sorted(lat for r in results for lat in r[1])
    errors = sum(r[2] for r in results)
    q = statistics.quantiles(latencies, n=100)
    accepted_rate = events / elapsed

    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "cxo_site.settings"})
    import django

    django.setup()
    from django.conf import settings

    from profiles.ingestion import RAW_COLUMNS
    from profiles.models import RawEvent
    from profiles.processing import process_pending

    rows = list(RawEvent.objects.order_by("id").values_list(*RAW_COLUMNS)[: options.process_limit])
    RawEvent.objects.filter(
        id__gt=RawEvent.objects.order_by("id").values_list("id", flat=True)[options.process_limit - 1]
    ).update(status=RawEvent.Status.PROCESSED) if len(rows) == options.process_limit else None
    t0 = time.perf_counter()
    processed = process_pending()
    processed_rate = processed / (time.perf_counter() - t0)
    insert_rate = bulk_insert_rate(url, [(*r[:3], json.dumps(r[3]), *r[4:]) for r in rows], options.clients)

    body = f"""`benchmarks/ingest.py --seconds {options.seconds} --clients {options.clients} --workers {options.workers}`:
gunicorn with {options.workers} sync workers in production mode (PostgreSQL, Redis cache and broker, processing
queued rather than eager); {options.clients} client processes on the same machine posting {BATCH}-event batches
(~{len(make_batch(0, 0)) // 1024} KB each) over keep-alive connections for {options.seconds} s.

| figure | result | target |
|---|---|---|
| accepted through `/v1/batch` | **{accepted_rate:,.0f} events/s** ({events:,} events, {errors} errors) | ≥ 10,000 |
| batch latency p50 / p95 / p99 | {q[49] * 1000:.0f} / {q[94] * 1000:.0f} / {q[98] * 1000:.0f} ms | p99 ≤ 250 ms |
| processed into profiles (`process_pending`, one process, batches of {settings.CXO_PROCESS_BATCH_SIZE:,}) | **{processed_rate:,.0f} events/s** ({processed:,} events, 20,000 distinct visitors) | ≥ 5,000 |
| plain multi-row INSERT of the same rows ({options.clients} processes, 100 rows per statement and commit) | {insert_rate:,.0f} rows/s | — |
| acceptance / plain INSERT | {accepted_rate / insert_rate:.0%} | — |
"""
    write_section("Ingestion", body)
    print(body)


if __name__ == "__main__":
    main()
