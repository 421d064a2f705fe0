from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from profiles.demo.seed import seed_world
from profiles.models import Event


class Command(BaseCommand):
    help = "Simulate Luma's customers (deterministic for a seed and day) and store their events."

    def add_arguments(self, parser):
        parser.add_argument("--profiles", type=int, default=1500, help="people to simulate (default 1500)")
        parser.add_argument(
            "--days", type=int, default=120, help="days of history before today (default 120)"
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--today", help="YYYY-MM-DD; the simulated 'today' (default: the real date)")
        parser.add_argument(
            "--truth-out",
            default=str(Path(settings.VAR_DIR) / "demo_truth.csv"),
            help="where the hidden ground truth goes (default var/demo_truth.csv)",
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing when events already exist")
        parser.add_argument("--chunk", type=int, default=250, help="people per processing batch")

    def handle(self, *args, profiles, days, seed, today, truth_out, if_empty, chunk, **options):
        if if_empty and Event.objects.exists():
            self.stdout.write("Events already exist; the demo world is not seeded again.")
            return
        if profiles < 1 or days < 1:
            raise CommandError("--profiles and --days must be at least 1")
        try:
            day = datetime.strptime(today, "%Y-%m-%d").date() if today else datetime.now(UTC).date()
        except ValueError as error:
            raise CommandError("--today must look like 2026-11-24") from error
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.stdout.write(f"Seeding Luma: {profiles} people, {days} days before {day}, seed {seed} ...")
        totals = seed_world(
            profiles=profiles,
            days=days,
            seed=seed,
            today=midnight,
            truth_out=Path(truth_out),
            chunk_people=chunk,
            progress=self.stdout.write,
        )
        self.stdout.write(
            f"Done in {totals['seconds']} s: {totals['stored']} events stored, {totals['dropped']} dropped "
            f"(consent), {totals['merges']} identity merges. Ground truth: {truth_out}"
        )
