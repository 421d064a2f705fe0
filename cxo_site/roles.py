"""Roles: the groups ``marketer``, ``agent`` and ``admin`` and their checks.

A user's roles are the names of their groups; a superuser has every role. Every
console view is wrapped in :func:`role_required`, every API view lists a
:class:`HasRole` permission. The navigation shown to a user is derived from the
same table, so a user never sees a link to an area they cannot open.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.urls import NoReverseMatch, reverse
from rest_framework.permissions import BasePermission

MARKETER, AGENT, ADMIN = "marketer", "agent", "admin"
ROLES = (MARKETER, AGENT, ADMIN)

# (label, url name, roles that may open it, built yet?) — the console's areas in menu order.
NAVIGATION = [
    ("Home", "home", ROLES, True),
    ("Profiles", "profiles:search", ROLES, True),
    ("Agent console", "profiles:agent", (AGENT, ADMIN), True),
    ("Sources", "profiles:source_list", (ADMIN, MARKETER), True),
    ("Audiences", "segments:home", (MARKETER, ADMIN), True),
    ("Offers", "offers:home", (MARKETER, ADMIN), False),
    ("Journeys", "journeys:home", (MARKETER, ADMIN), False),
    ("Analytics", "analytics:home", (MARKETER, ADMIN), False),
    ("API docs", "api-docs", (MARKETER, ADMIN), True),
]


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    cached = getattr(user, "_cxo_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._cxo_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: str) -> Callable:
    """Console view decorator: login first, then one of ``roles`` (403 otherwise)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.required_roles = roles
        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: ``permission_classes = [HasRole.of(MARKETER, ADMIN)]``."""

    roles: tuple[str, ...] = ROLES
    message = "Your role does not give access to this endpoint."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and has_role(request.user, *self.roles))

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})


def navigation(request) -> dict:
    """Template context: the navigation entries the current user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": set()}
    roles = user_roles(user)
    items = []
    for label, url_name, allowed, built in NAVIGATION:
        if not roles & set(allowed):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "built": built, "active": request.path == url})
    return {"nav_items": items, "user_roles": roles}
