from django.core.management.base import BaseCommand

from cxo_site.accounts import create_or_update_user
from cxo_site.roles import ROLES

DEMO_PASSWORD = "luma-demo"  # noqa: S105 - the embedded demo's documented login


class Command(BaseCommand):
    help = "Create the demo logins admin, marketer and agent (password luma-demo). Embedded demo only."

    def handle(self, *args, **options):
        from django.conf import settings

        if not settings.DEBUG:
            self.stderr.write("Refusing to create demo users with DJANGO_DEBUG=false.")
            return
        for role in ROLES:
            create_or_update_user(username=role, role=role, password=DEMO_PASSWORD)
        self.stdout.write("Demo users: admin, marketer, agent (password luma-demo).")
