from django.core.management.base import BaseCommand, CommandError

from cxo_site.accounts import create_or_update_user, issue_api_token
from cxo_site.roles import ROLES


class Command(BaseCommand):
    help = "Create a console user with a role (or update an existing one); --token prints an API token last."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", help="Without it the user cannot log in to the console (API only).")
        parser.add_argument(
            "--token", action="store_true", help="Print a management-API token on the last line."
        )

    def handle(self, *args, username, role, password, token, **options):
        if not username.strip():
            raise CommandError("username must not be empty")
        user, created = create_or_update_user(username=username, role=role, password=password)
        self.stdout.write(f"{'Created' if created else 'Updated'} user {user.username} with role {role}.")
        if token:
            self.stdout.write(issue_api_token(user=user))
