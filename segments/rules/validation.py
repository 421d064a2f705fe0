"""validate(): the published JSON Schema, then the checks a schema cannot make."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import jsonschema

from .dates import parse_date, window_end
from .errors import RuleError
from .scores import score_provider

SCHEMA_PATH = Path(__file__).with_name("schema.json")
MAX_DEPTH = 12
MAX_CONDITIONS = 200
MAX_ERRORS = 20


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def format_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's messages, reworded where they would puzzle a marketer."""
    if error.validator == "not" and isinstance(error.instance, dict) and "op" in error.instance:
        return f"{error.instance['op']} takes no value"
    if error.validator == "pattern":
        if "[0-9]{4}" in error.validator_value:
            return (
                f"{error.instance!r} is not an ISO 8601 date (2026-01-31) or date-time (2026-01-31T14:00:00Z)"
            )
        return (
            f"{error.instance!r} is not a valid path: keys of letters, digits, _ $ - or spaces, "
            "joined by dots, with [] after a list (products[].category)"
        )
    if error.validator == "required" and error.instance.get("type") == "event" and "op" not in error.instance:
        return "'op' is required: did or did_not"
    return error.message


def _schema_errors(rule) -> list[dict[str, str]]:
    errors = []
    for error in sorted(_validator().iter_errors(rule), key=lambda e: list(map(str, e.absolute_path))):
        errors.append({"path": format_path(error.absolute_path), "message": _message(error)})
        if len(errors) >= MAX_ERRORS:
            break
    return errors


def _walk(node: dict, path: str, depth: int) -> Iterator[tuple[dict, str, int]]:
    yield node, path, depth
    prefix = f"{path}." if path else ""
    if node["type"] in ("and", "or"):
        for i, child in enumerate(node["conditions"]):
            yield from _walk(child, f"{prefix}conditions[{i}]", depth + 1)
    elif node["type"] == "not":
        yield from _walk(node["condition"], f"{prefix}condition", depth + 1)


def _comparison_errors(node: dict, path: str, path_key: str) -> Iterator[tuple[str, str]]:
    prefix = f"{path}." if path else ""
    if node[path_key].count("[]") > 1:
        yield f"{prefix}{path_key}", "a path can go through one list ([]) only"
    value = node.get("value")
    if node["op"] in ("before", "after"):
        try:
            parse_date(value)
        except ValueError as exc:
            yield f"{prefix}value", str(exc)


def _window_errors(window: dict | None, path: str) -> Iterator[tuple[str, str]]:
    if not window or window["type"] != "between":
        return
    try:
        start, end = parse_date(window["from"]), window_end(window["to"])
    except ValueError as exc:
        yield path, str(exc)
        return
    if end <= start:
        yield f"{path}.to", "the window must end after it starts"


def _filters_errors(filters: list[dict], path: str) -> Iterator[tuple[str, str]]:
    for i, flt in enumerate(filters):
        yield from _comparison_errors(flt, f"{path}[{i}]", "property")


def _semantic_errors(rule: dict, *, check_references: bool) -> list[dict[str, str]]:
    errors: list[tuple[str, str]] = []
    nodes = list(_walk(rule, "", 1))
    if len(nodes) > MAX_CONDITIONS:
        errors.append(("", f"a rule may have at most {MAX_CONDITIONS} conditions"))
    audiences: dict[int, str] = {}
    for node, path, depth in nodes:
        prefix = f"{path}." if path else ""
        if depth > MAX_DEPTH:
            errors.append((path, f"conditions may nest at most {MAX_DEPTH} deep"))
            break
        kind = node["type"]
        if kind == "trait":
            errors += _comparison_errors(node, path, "trait")
        elif kind == "event":
            errors += _filters_errors(node.get("filters", []), f"{prefix}filters")
            errors += _window_errors(node.get("window"), f"{prefix}window")
        elif kind == "sequence":
            errors += _filters_errors(node["first"].get("filters", []), f"{prefix}first.filters")
            errors += _filters_errors(node["then"].get("filters", []), f"{prefix}then.filters")
            errors += _window_errors(node.get("window"), f"{prefix}window")
        elif kind == "score":
            if score_provider(node["model"]) is None:
                errors.append((f"{prefix}model", f"no propensity model named {node['model']!r}"))
        elif kind == "audience":
            audiences.setdefault(node["audience_id"], f"{prefix}audience_id")
    if audiences and check_references:
        errors += _audience_errors(audiences)
    return [{"path": p, "message": m} for p, m in errors[:MAX_ERRORS]]


def _audience_errors(audiences: dict[int, str]) -> list[tuple[str, str]]:
    try:
        from segments.models import Audience
    except ImportError:
        return [(path, "audience conditions are not available yet") for path in audiences.values()]
    found = set(Audience.objects.filter(pk__in=list(audiences)).values_list("pk", flat=True))
    return [(path, f"no audience with id {pk}") for pk, path in audiences.items() if pk not in found]


def _json_depth(value, *, limit: int, depth: int = 0) -> int:
    """How deep JSON nests (stopping past ``limit``), checked before the recursive schema."""
    if depth > limit or not isinstance(value, dict | list):
        return depth
    children = value.values() if isinstance(value, dict) else value
    return max((_json_depth(child, limit=limit, depth=depth + 1) for child in children), default=depth)


def _has_non_finite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


def validate(rule: dict, *, check_references: bool = True) -> None:
    """Raise :class:`RuleError` listing every problem found, or return None for a valid rule.

    ``check_references=False`` skips the database look-up of referenced audiences
    (the compiler's own check; a deleted audience then simply has no members).
    """
    if not isinstance(rule, dict):
        raise RuleError([{"path": "", "message": "a rule is a JSON object"}])
    if _json_depth(rule, limit=4 * MAX_DEPTH + 8) > 4 * MAX_DEPTH + 8:
        raise RuleError([{"path": "", "message": f"conditions may nest at most {MAX_DEPTH} deep"}])
    if _has_non_finite(rule):
        raise RuleError([{"path": "", "message": "numbers must be finite (no NaN or Infinity)"}])
    errors = _schema_errors(rule)
    if errors:
        raise RuleError(errors)
    errors = _semantic_errors(rule, check_references=check_references)
    if errors:
        raise RuleError(errors)
