"""Sections that later apps add to a profile, without the profiles app importing them.

Segments registers "audiences" (current memberships), analytics will register scores, offers the next
best offer. The profile API and the console's profile page show every registered section.
"""

from collections.abc import Callable
from typing import Any

_sections: dict[str, Callable[[Any], Any]] = {}


def register_profile_section(name: str, func: Callable[[Any], Any]) -> None:
    """Add ``name`` to every profile's detail: ``func(profile)`` returns JSON-able data."""
    _sections[name] = func


def profile_sections(profile) -> dict[str, Any]:
    return {name: func(profile) for name, func in _sections.items()}
