"""Destinations throughput: queueing webhook deliveries, sending them, exporting a CSV.

    DATABASE_URL=postgres://… .venv/bin/python benchmarks/destinations.py --profiles 20000 [--write]

Creates its own audience and profiles (half of them consenting to ``share``),
measures, then removes everything it created. The webhook receiver is a real
HTTP server on 127.0.0.1 (``segments.destinations.testing.WebhookReceiver``),
so the send figure includes signing, the HTTP round trip and the bookkeeping.
With ``--write`` the "Destinations" section of docs/benchmarks.md is replaced.
"""

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxo_site.settings")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from profiles.models import Identity, Profile  # noqa: E402
from segments.destinations import delivery, export, services  # noqa: E402
from segments.destinations.testing import WebhookReceiver, make_audience  # noqa: E402
from segments.models import Membership  # noqa: E402

DOCS = Path(settings.BASE_DIR) / "docs" / "benchmarks.md"
SHARE = {"share": {"granted": True, "at": "2026-01-01T00:00:00Z"}}


def seed(n: int, tag: str) -> list[int]:
    now = timezone.now()
    profiles = [
        Profile(
            display_name=f"{tag}-{i}",
            traits={"loyalty_tier": "plus" if i % 3 else "gold", "points": i, "city": "Lyon"},
            consent=SHARE if i % 2 == 0 else {},
            first_seen=now,
            last_seen=now,
        )
        for i in range(n)
    ]
    Profile.objects.bulk_create(profiles, batch_size=2000)
    ids = list(Profile.objects.filter(display_name__startswith=f"{tag}-").values_list("pk", flat=True))
    Identity.objects.bulk_create(
        [
            Identity(
                profile_id=pk,
                namespace=ns,
                value=f"{tag}-{pk}@example.com" if ns == "email" else f"{tag}-{pk}",
                first_seen=now,
                last_seen=now,
            )
            for pk in ids
            for ns in ("email", "user_id")
        ],
        batch_size=4000,
    )
    return ids


def run(n: int) -> dict:
    tag = f"bench{int(time.time())}"
    audience = make_audience(f"Benchmark {tag}")
    ids = seed(n, tag)
    now = timezone.now()
    Membership.objects.bulk_create(
        [Membership(audience=audience, profile_id=pk, entered_at=now) for pk in ids], batch_size=4000
    )
    figures: dict = {"profiles": n, "consenting": (n + 1) // 2}
    try:
        with WebhookReceiver() as receiver, tempfile.TemporaryDirectory() as tmp:
            settings.CXO_EXPORT_DIR = tmp
            hook = services.create_destination(
                audience_id=audience.pk, name="bench hook", kind="webhook", url=receiver.url, batch_size=100
            )
            services._schedule_send = lambda ids: None  # send below, timed on its own
            started = time.perf_counter()
            queued = services.queue_membership_change(audience_id=audience.pk, entered=ids, exited=[])
            figures["queue_seconds"] = time.perf_counter() - started
            figures["deliveries"] = len(queued)

            started = time.perf_counter()
            for item in queued:
                delivery.send_delivery(delivery_id=item.pk)
            figures["send_seconds"] = time.perf_counter() - started
            figures["received"] = len(receiver.requests)
            hook.delete()

            csv = services.create_destination(
                audience_id=audience.pk,
                name="bench csv",
                kind="file_export",
                identity_namespaces=["email", "user_id"],
                trait_keys=["loyalty_tier", "points", "city"],
            )
            started = time.perf_counter()
            result = export.run_export(destination_id=csv.pk, trigger="manual")
            figures["export_seconds"] = time.perf_counter() - started
            figures["export_rows"] = result.rows
            figures["export_status"] = result.status
    finally:
        audience.delete()
        Profile.objects.filter(display_name__startswith=f"{tag}-").delete()
    return figures


def section(f: dict) -> str:
    db = connection.vendor
    return "\n".join(
        [
            "## Destinations",
            "",
            f"(benchmarks/destinations.py, {db}, {platform.node()}, {timezone.now():%Y-%m-%d}; "
            f"{f['profiles']:,} members of which {f['consenting']:,} consent to sharing)",
            "",
            "| what | figure |",
            "|---|---|",
            f"| queue one membership change of {f['profiles']:,} entered profiles (consent filter, payloads, "
            f"{f['deliveries']} deliveries of 100) | {f['queue_seconds']:.2f} s |",
            f"| send those deliveries one after another to a local receiver (sign, POST, record) | "
            f"{f['send_seconds']:.2f} s = {f['deliveries'] / f['send_seconds']:.0f} deliveries/s, "
            f"{f['consenting'] / f['send_seconds']:,.0f} profiles/s per sender |",
            f"| CSV export of the audience (2 identity + 3 trait columns, {f['export_rows']:,} rows) | "
            f"{f['export_seconds']:.2f} s = {f['export_rows'] / f['export_seconds']:,.0f} rows/s |",
            "",
        ]
    )


def write(text: str) -> None:
    docs = DOCS.read_text()
    pattern = re.compile(r"## Destinations\n.*?(?=\n## |\Z)", re.S)
    docs = (
        pattern.sub(text.rstrip("\n") + "\n", docs)
        if pattern.search(docs)
        else docs.rstrip("\n") + "\n\n" + text
    )
    DOCS.write_text(docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=20000)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    figures = run(args.profiles)
    text = section(figures)
    print(text)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
