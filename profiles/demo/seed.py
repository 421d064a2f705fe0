"""Writing the Luma world through the ingestion and processing services, in chunks."""

import csv
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from profiles.demo.catalogue import CHANNEL_SOURCES
from profiles.demo.simulate import simulate
from profiles.ingestion import validate_message
from profiles.models import Source
from profiles.processing import process_batch


def seed_world(
    *,
    profiles: int,
    days: int,
    seed: int,
    today: datetime,
    truth_out: Path,
    chunk_people: int = 250,
    progress: Callable[[str], None] = print,
) -> dict:
    """Simulate ``profiles`` people and store their events; write the hidden truth CSV. Returns counts."""
    sources = {
        channel: Source.objects.get_or_create(name=name)[0] for channel, name in CHANNEL_SOURCES.items()
    }
    truth_out.parent.mkdir(parents=True, exist_ok=True)
    totals = {"people": 0, "messages": 0, "stored": 0, "dropped": 0, "merges": 0}
    started = time.monotonic()
    with truth_out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "anonymous_id", "true_probability", "outcome"])
        for first in range(0, profiles, chunk_people):
            items = []
            for index in range(first, min(first + chunk_people, profiles)):
                messages, truth = simulate(seed, index, today=today, days=days)
                namespace, value = truth["key"]
                writer.writerow(
                    [
                        value if namespace == "user_id" else "",
                        value if namespace == "anonymous_id" else "",
                        truth["true_probability"],
                        truth["outcome"],
                    ]
                )
                for message in messages:
                    accepted = validate_message(
                        message, received_at=datetime.fromisoformat(message["timestamp"])
                    )
                    items.append((sources[message["context"]["channel"]], accepted))
            result = process_batch(items)
            totals["people"] = min(first + chunk_people, profiles)
            totals["messages"] += len(items)
            totals["stored"] += result.stored
            totals["dropped"] += result.dropped
            totals["merges"] += result.merges
            elapsed = time.monotonic() - started
            progress(
                f"  {totals['people']:>7}/{profiles} people, {totals['stored']:>9} events "
                f"({totals['stored'] / max(elapsed, 1e-9):,.0f} events/s)"
            )
    totals["seconds"] = round(time.monotonic() - started, 1)
    return totals
