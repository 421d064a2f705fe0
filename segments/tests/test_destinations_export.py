"""Scheduled file exports: the CSV a destination writes, and when it writes it."""

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps

if "destination" not in apps.get_app_config("segments").models:  # until the audience models have landed
    pytest.skip("destination models are not installed yet", allow_module_level=True)
from django.utils import timezone

from segments.destinations import export, services, tasks
from segments.destinations.models import Destination, ExportRun
from segments.destinations.testing import add_members, make_audience
from tests.factories import IdentityFactory, ProfileFactory

pytestmark = pytest.mark.django_db

SHARE = {"share": {"granted": True, "at": "2026-01-01T00:00:00Z"}}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path) -> Path:
    settings.CXO_EXPORT_DIR = tmp_path / "exports"
    return settings.CXO_EXPORT_DIR


@pytest.fixture
def audience():
    return make_audience("Luma Plus")


def make_export(audience, **fields) -> Destination:
    fields = {"identity_namespaces": ["email", "user_id"], "trait_keys": ["loyalty_tier", "points"], **fields}
    return services.create_destination(
        audience_id=audience.pk, name="Daily CSV", kind="file_export", **fields
    )


def read_rows(path: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_export_writes_current_consenting_members_with_chosen_columns(audience):
    sarah = ProfileFactory(consent=SHARE, traits={"loyalty_tier": "plus", "points": 120, "city": "Lyon"})
    IdentityFactory(profile=sarah, namespace="email", value="sarah@example.com")
    IdentityFactory(profile=sarah, namespace="email", value="s.k@example.com")
    IdentityFactory(profile=sarah, namespace="user_id", value="u-1")
    IdentityFactory(profile=sarah, namespace="phone", value="+33600000000")
    no_consent = ProfileFactory(consent={}, traits={"loyalty_tier": "gold"})
    former = ProfileFactory(consent=SHARE, traits={"loyalty_tier": "silver"})
    outsider = ProfileFactory(consent=SHARE)
    add_members(audience, [sarah, no_consent])
    add_members(audience, [former], exited=True)
    destination = make_export(audience)

    run = export.run_export(destination_id=destination.pk, trigger="manual")

    assert run.status == ExportRun.Status.SUCCEEDED
    assert (run.rows, run.skipped_no_consent) == (1, 1)
    assert read_rows(run.path) == [
        ["profile_id", "email", "user_id", "loyalty_tier", "points"],
        [str(sarah.pk), "s.k@example.com|sarah@example.com", "u-1", "plus", "120"],
    ]
    assert str(outsider.pk) not in Path(run.path).read_text()


def test_export_goes_to_the_chosen_folder_and_leaves_no_partial_file(audience, export_dir):
    destination = make_export(audience, output_subdir="crm/daily")
    run = export.run_export(destination_id=destination.pk)
    assert Path(run.path).parent == export_dir / "crm" / "daily"
    assert [p.name for p in (export_dir / "crm" / "daily").iterdir()] == [Path(run.path).name]
    assert read_rows(run.path) == [["profile_id", "email", "user_id", "loyalty_tier", "points"]]


def test_a_failed_export_is_recorded_and_leaves_nothing_behind(audience, export_dir):
    export_dir.mkdir(parents=True)
    (export_dir / "blocked").write_text("a file where the folder should be")
    destination = make_export(audience, output_subdir="blocked")

    run = export.run_export(destination_id=destination.pk)

    assert run.status == ExportRun.Status.FAILED
    assert run.error and run.finished_at
    assert sorted(p.name for p in export_dir.iterdir()) == ["blocked"]


def test_exports_run_when_due_and_once_per_interval(audience):
    destination = make_export(audience, interval_minutes=60)
    now = timezone.now()

    assert tasks.run_due_exports() == 1
    assert destination.export_runs.get().status == ExportRun.Status.SUCCEEDED
    assert export.claim_due_exports(now=now + timedelta(minutes=30)) == []
    assert export.claim_due_exports(now=now + timedelta(minutes=61)) == [destination.pk]
    assert export.claim_due_exports(now=now + timedelta(minutes=61)) == []


def test_a_paused_export_does_not_run(audience):
    destination = make_export(audience)
    services.set_active(destination_id=destination.pk, is_active=False)
    assert tasks.run_due_exports() == 0
    assert not destination.export_runs.exists()


def test_a_large_audience_is_exported_in_chunks(audience, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 3)
    people = ProfileFactory.create_batch(8, consent=SHARE, traits={"points": 1})
    add_members(audience, people)
    run = export.run_export(destination_id=make_export(audience).pk)
    rows = read_rows(run.path)[1:]
    assert [int(row[0]) for row in rows] == sorted(p.pk for p in people)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"output_subdir": "../outside"}, "output_subdir"),
        ({"output_subdir": "/etc"}, "output_subdir"),
        ({"interval_minutes": 1}, "interval_minutes"),
        ({"identity_namespaces": ["ssn"]}, "identity_namespaces"),
    ],
)
def test_the_service_refuses_unsafe_or_invalid_settings(audience, fields, field):
    from cxo_site.errors import DomainError

    with pytest.raises(DomainError) as refused:
        make_export(audience, **fields)
    assert refused.value.field == field
    assert not Destination.objects.exists()
