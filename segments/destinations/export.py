"""Scheduled file export: a CSV of an audience's current, consenting members.

The file is written next to its final name and moved into place with one
``os.replace``, so a reader never sees half a file. Columns: ``profile_id``,
one per chosen identity namespace (several values joined with ``|``), one per
chosen trait (strings as they are, other values as JSON).
"""

import contextlib
import csv
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from profiles.models import Profile
from segments.destinations.models import Destination, ExportRun
from segments.destinations.payloads import identities_by_profile, shareable

CHUNK = 2000


def export_root() -> Path:
    return Path(settings.CXO_EXPORT_DIR)


def output_dir(destination: Destination) -> Path:
    root = export_root()
    return root / destination.output_subdir if destination.output_subdir else root


def current_members(audience_id: int):
    """Profiles with an open membership of the audience (a subquery, not a list)."""
    membership = apps.get_model("segments", "Membership")
    open_members = membership.objects.filter(audience_id=audience_id, exited_at__isnull=True)
    return Profile.objects.filter(pk__in=open_members.values("profile_id"))


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def write_csv(destination: Destination, path: Path) -> tuple[int, int]:
    """Write the members' CSV to ``path``; ``(rows written, members left out for lack of consent)``."""
    members = current_members(destination.audience_id)
    total = members.count()
    namespaces = list(destination.identity_namespaces)
    trait_keys = list(destination.trait_keys)
    rows = 0
    last_pk = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["profile_id", *namespaces, *trait_keys])
        while True:  # keyset pagination: constant memory on a large audience
            chunk = list(
                shareable(members.filter(pk__gt=last_pk)).order_by("pk").values_list("pk", "traits")[:CHUNK]
            )
            if not chunk:
                break
            last_pk = chunk[-1][0]
            identities = identities_by_profile([pk for pk, _ in chunk], namespaces) if namespaces else {}
            for pk, traits in chunk:
                traits = traits if isinstance(traits, dict) else {}
                ids = identities.get(pk, {})
                writer.writerow(
                    [
                        pk,
                        *("|".join(ids.get(ns, [])) for ns in namespaces),
                        *(cell(traits.get(k)) for k in trait_keys),
                    ]
                )
            rows += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return rows, total - rows


def run_export(
    *, destination_id: int, trigger: str = ExportRun.Trigger.SCHEDULE, now: datetime | None = None
) -> ExportRun:
    """Export the destination's audience now; the run records the file, the row count or the error."""
    now = now or timezone.now()
    destination = Destination.objects.get(pk=destination_id, kind=Destination.Kind.FILE_EXPORT)
    run = ExportRun.objects.create(destination=destination, trigger=trigger, started_at=now)
    directory = output_dir(destination)
    final = (
        directory
        / f"audience-{destination.audience_id}-destination-{destination.pk}-{now:%Y%m%dT%H%M%S%fZ}.csv"
    )
    temporary = final.with_name(f".{final.name}.part")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        rows, skipped = write_csv(destination, temporary)
        os.replace(temporary, final)
    except Exception as exc:  # the run must record any failure, then the task may report it
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        run.status = ExportRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    run.status = ExportRun.Status.SUCCEEDED
    run.rows, run.skipped_no_consent, run.path = rows, skipped, str(final)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "rows", "skipped_no_consent", "path", "finished_at"])
    return run


def claim_due_exports(*, now: datetime | None = None) -> list[int]:
    """Ids of file exports that are due; each is moved to its next slot so it is claimed once."""
    now = now or timezone.now()
    due = Destination.objects.filter(kind=Destination.Kind.FILE_EXPORT, is_active=True).filter(
        Q(next_run_at__isnull=True) | Q(next_run_at__lte=now)
    )
    claimed = []
    for pk, next_run_at, interval in due.values_list("pk", "next_run_at", "interval_minutes"):
        moved = Destination.objects.filter(pk=pk, next_run_at=next_run_at).update(
            next_run_at=now + timedelta(minutes=interval)
        )
        if moved:
            claimed.append(pk)
    return claimed
