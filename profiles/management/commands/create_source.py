from django.core.management.base import BaseCommand, CommandError

from cxo_site.errors import DomainError
from profiles.sources import create_source


class Command(BaseCommand):
    help = "Create an event source; prints its write key alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        if not name.strip():
            raise CommandError("name must not be empty")
        try:
            source = create_source(name=name)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Created source {source.name}. Write key:")
        self.stdout.write(source.write_key)
