"""Write-side use cases for console users and API tokens."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from cxo_site.roles import ROLES


@transaction.atomic
def create_or_update_user(*, username: str, role: str, password: str | None = None) -> tuple:
    """Create ``username`` with exactly ``role`` (or give an existing user that role). Returns (user, created)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.is_staff = role == "admin"
    user.save()
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user, created


def issue_api_token(*, user) -> str:
    """A fresh management-API token for ``user`` (any earlier one stops working)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key
