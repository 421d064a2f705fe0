"""The console's rule builder: edits of a rule tree, and what the data offers to pick from.

The builder is server-rendered (``segments/templates/segments/builder.html``): the rule travels as
JSON with every htmx request, the request names one edit (``apply_edit``), and the response is the
re-rendered tree with the rule's description, its problems and a live size estimate. Paths are the
validator's (``conditions[1].condition``), so its errors land on the node they are about.
"""

import hashlib
import re
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from profiles.models import Event, Profile
from segments import rules
from segments.models import Audience

GROUPS = ("and", "or")
COMPARISONS = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("in", "is one of"),
    ("gt", ">"),
    ("gte", "≥"),
    ("lt", "<"),
    ("lte", "≤"),
    ("before", "is before"),
    ("after", "is after"),
    ("within_last_days", "within the last … days"),
    ("exists", "exists"),
    ("not_exists", "does not exist"),
]
NUMERIC = {"gt", "gte", "lt", "lte", "within_last_days"}
NO_VALUE = {"exists", "not_exists"}
TEXT = {"contains", "starts_with", "before", "after"}
COUNT_OPS = [("", "at least once"), ("at_least", "at least"), ("at_most", "at most"), ("exactly", "exactly")]
AGGREGATE_OPS = [("equals", "="), ("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤")]
SCORE_OPS = [("gt", ">"), ("gte", "≥"), ("lt", "<"), ("lte", "≤")]
PURPOSES = ["collect", "personalize", "share", "email", "sms", "push", "phone"]
KINDS = {
    "trait": "Trait",
    "event": "Event",
    "sequence": "Sequence (A then B)",
    "audience": "Audience membership",
    "consent": "Consent",
    "score": "Propensity score",
    "group": "Group (any of)",
}
CATALOGUE_SECONDS = 600
_STEP = re.compile(r"conditions\[(\d+)\]|condition")


class EditError(ValueError):
    """An edit that does not fit the tree (a stale path, an unknown action)."""


def blank(kind: str) -> dict:
    """A new condition of ``kind``, as the builder adds it (incomplete until filled in)."""
    if kind == "trait":
        return {"type": "trait", "trait": "", "op": "equals", "value": ""}
    if kind == "event":
        return {"type": "event", "op": "did", "event": ""}
    if kind == "sequence":
        return {
            "type": "sequence",
            "op": "did",
            "first": {"event": ""},
            "then": {"event": ""},
            "within_days": 2,
        }
    if kind == "audience":
        first = Audience.objects.order_by("name").values_list("pk", flat=True).first()
        return {"type": "audience", "audience_id": first or 0, "member": True}
    if kind == "consent":
        return {"type": "consent", "purpose": "email", "granted": True}
    if kind == "score":
        models = rules.score_models()
        return {"type": "score", "model": models[0] if models else "", "op": "gte", "value": 0.5}
    if kind == "group":
        return {"type": "or", "conditions": [blank("trait")]}
    raise EditError(f"Unknown kind of condition: {kind}")


def steps(path: str) -> list[int | str]:
    """``conditions[1].condition`` → ``[1, "condition"]``; the root is ``""``."""
    if not path:
        return []
    found = []
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            raise EditError(f"Not a condition path: {path}")
        found.append(int(match.group(1)) if match.group(1) is not None else "condition")
    return found


def _parent_and_key(rule: dict, path: str):
    parts = steps(path)
    if not parts:
        return None, None
    node = rule
    for step in parts[:-1]:
        node = _child(node, step)
    last = parts[-1]
    container = node.get("conditions") if isinstance(last, int) else node
    if isinstance(last, int) and (not isinstance(container, list) or last >= len(container)):
        raise EditError(f"No condition at {path}")
    if last == "condition" and "condition" not in node:
        raise EditError(f"No condition at {path}")
    return container, last


def _child(node: dict, step):
    try:
        return node["conditions"][step] if isinstance(step, int) else node["condition"]
    except (KeyError, IndexError, TypeError) as error:
        raise EditError("The rule changed under this edit; reload the builder.") from error


def node_at(rule: dict, path: str) -> dict:
    node = rule
    for step in steps(path):
        node = _child(node, step)
    if not isinstance(node, dict):
        raise EditError(f"No condition at {path}")
    return node


def _replace(rule: dict, path: str, new: dict) -> dict:
    container, key = _parent_and_key(rule, path)
    if container is None:
        return new
    container[key] = new
    return rule


def apply_edit(rule: dict, data) -> dict:
    """Apply the edit named by ``data`` (a QueryDict or dict) to ``rule``; returns the new rule."""
    action = data.get("action", "")
    path = data.get("path", "")
    if action == "add":
        group = node_at(rule, path)
        if group.get("type") not in GROUPS:
            raise EditError("Conditions are added to a group.")
        group.setdefault("conditions", []).append(blank(data.get("kind", "trait")))
        return rule
    if action == "remove":
        container, key = _parent_and_key(rule, path)
        if container is None:
            return {"type": "and", "conditions": []}
        if key == "condition":  # removing the inside of a "not" removes the "not" too
            parent_path = path.rsplit(".", 1)[0] if "." in path else ""
            return apply_edit(rule, {"action": "remove", "path": parent_path})
        del container[key]
        return rule
    if action == "negate":
        node = node_at(rule, path)
        new = node["condition"] if node.get("type") == "not" else {"type": "not", "condition": node}
        return _replace(rule, path, new)
    if action == "wrap":
        node = node_at(rule, path)
        return _replace(rule, path, {"type": "or", "conditions": [node]})
    if action == "set":
        _set_field(node_at(rule, path), data.get("field", ""), data.get("value", ""))
        return rule
    if action == "filter_add":
        node = node_at(rule, path)
        step = _step(node, data.get("step", ""))
        step.setdefault("filters", []).append({"property": "", "op": "equals", "value": ""})
        return rule
    if action in ("filter_remove", "filter_set"):
        node = node_at(rule, path)
        filters = _step(node, data.get("step", "")).get("filters", [])
        try:
            index = int(data.get("index", ""))
            item = filters[index]
        except (ValueError, IndexError) as error:
            raise EditError("No such filter.") from error
        if action == "filter_remove":
            del filters[index]
        else:
            _set_comparison(item, data.get("field", ""), data.get("value", ""), key="property")
        return rule
    raise EditError(f"Unknown edit: {action or '(none)'}")


def _step(node: dict, step: str) -> dict:
    """The part of a condition that holds filters: the event condition, or a sequence's step."""
    if node.get("type") == "sequence" and step in ("first", "then"):
        return node.setdefault(step, {"event": ""})
    if node.get("type") == "event":
        return node
    raise EditError("This condition has no filters.")


def coerce(op: str, text) -> object:
    """The JSON value a typed text stands for under ``op`` (numbers, booleans, lists)."""
    if op in NO_VALUE:
        return None
    if isinstance(text, list | int | float | bool) and not isinstance(text, str):
        return text
    text = str(text).strip()
    if op in NUMERIC:
        return _number(text, default=text)
    if op == "in":
        return [_scalar(part.strip()) for part in text.split(",") if part.strip()]
    if op in TEXT:
        return text
    return _scalar(text)


def _number(text: str, default=None):
    try:
        number = float(text)
    except ValueError:
        return default
    if number != number or number in (float("inf"), float("-inf")):
        return default
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def _scalar(text: str):
    """``true``/``false`` → booleans; plain numbers (not ``007``) → numbers; anything else stays text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?", text):
        return _number(text, default=text)
    return text


def shown(value) -> str:
    """A value as the builder's text input shows it (the inverse of :func:`coerce`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    return str(value)


def _set_comparison(node: dict, field: str, value: str, *, key: str) -> None:
    if field == key:
        node[key] = value.strip()
    elif field == "op":
        if value not in dict(COMPARISONS):
            raise EditError(f"Unknown comparison: {value}")
        node["op"] = value
        if value in NO_VALUE:
            node.pop("value", None)
        else:
            node["value"] = coerce(value, shown(node.get("value", "")))
    elif field == "value":
        if node.get("op") not in NO_VALUE:
            node["value"] = coerce(node.get("op", "equals"), value)
    else:
        raise EditError(f"Unknown field: {field}")


def _set_field(node: dict, field: str, value: str) -> None:  # noqa: C901 - one branch per field
    kind = node.get("type")
    if kind in GROUPS and field == "type":
        if value not in GROUPS:
            raise EditError("A group matches all (and) or any (or) of its conditions.")
        node["type"] = value
    elif kind == "trait":
        _set_comparison(node, field, value, key="trait")
    elif kind == "event" and field in ("op", "event"):
        node[field] = value.strip()
    elif kind in ("event", "sequence") and field in ("window", "days", "from", "to"):
        _set_window(node, field, value)
    elif kind == "event" and field in ("count_op", "count_value"):
        count = node.get("count") or {"op": "at_least", "value": 1}
        if field == "count_op":
            if not value:
                node.pop("count", None)
                return
            count["op"] = value
        else:
            count["value"] = _number(value, default=value)
        node["count"] = count
    elif kind == "event" and field.startswith("agg_"):
        aggregate = node.get("aggregate") or {"fn": "sum", "property": "revenue", "op": "gte", "value": 0}
        name = field.removeprefix("agg_")
        if name == "fn" and not value:
            node.pop("aggregate", None)
            return
        aggregate[name] = _number(value, default=value) if name == "value" else value.strip()
        node["aggregate"] = aggregate
    elif kind == "sequence" and field in ("op", "within_days"):
        node[field] = _number(value, default=value) if field == "within_days" else value
    elif kind == "sequence" and field in ("first", "then"):
        node.setdefault(field, {})["event"] = value.strip()
    elif kind == "audience" and field in ("audience_id", "member"):
        node[field] = _number(value, default=0) if field == "audience_id" else value == "true"
    elif kind == "consent" and field in ("purpose", "granted", "default"):
        if field == "purpose":
            node["purpose"] = value
        elif field == "default" and value == "":
            node.pop("default", None)
        else:
            node[field] = value == "true"
    elif kind == "score" and field in ("model", "op", "value"):
        node[field] = _number(value, default=value) if field == "value" else value
    else:
        raise EditError(f"Unknown field {field!r} for a {kind} condition.")


def _set_window(node: dict, field: str, value: str) -> None:
    window = dict(node.get("window") or {"type": "ever"})
    if field == "window":
        if value == "last_days":
            window = {"type": "last_days", "days": window.get("days", 30)}
        elif value == "between":
            today = timezone.now().date()
            window = {"type": "between", "from": str(today - timedelta(days=30)), "to": str(today)}
        else:
            node.pop("window", None)
            return
    elif field == "days":
        window["days"] = _number(value, default=value)
    else:
        window[field] = value.strip()
    node["window"] = window


# What the data offers to pick from -------------------------------------------------------------


def event_names() -> list[str]:
    """Event names seen among the latest 50,000 events, the most frequent first (cached)."""

    def load() -> list[str]:
        table = Event._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT event, COUNT(*) AS n FROM (SELECT event FROM {table} "  # noqa: S608 - fixed names
                "ORDER BY timestamp DESC LIMIT 50000) recent WHERE event <> '' "
                "GROUP BY event ORDER BY n DESC, event LIMIT 300"
            )
            return [row[0] for row in cursor.fetchall()]

    return cache.get_or_set("builder:event-names", load, CATALOGUE_SECONDS)


def property_paths(event: str) -> dict[str, list[str]]:
    """Property paths of the latest 300 ``event`` events, each with up to 15 example values (cached)."""
    if not event:
        return {}

    def load() -> dict[str, list[str]]:
        sample = Event.objects.filter(event=event).order_by("-timestamp").values_list("properties", flat=True)
        return _paths(list(sample[:300]))

    return cache.get_or_set(f"builder:properties:{_cache_key(event)}", load, CATALOGUE_SECONDS)


def trait_paths() -> dict[str, list[str]]:
    """Trait paths of the 500 most recently seen profiles, with example values (cached)."""

    def load() -> dict[str, list[str]]:
        sample = Profile.objects.order_by("-last_seen").values_list("traits", flat=True)
        return _paths(list(sample[:500]))

    return cache.get_or_set("builder:traits", load, CATALOGUE_SECONDS)


def _cache_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _paths(documents: list) -> dict[str, list[str]]:
    found: dict[str, dict[str, None]] = {}

    def visit(value, path: str, in_list: bool) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(key, str) and re.fullmatch(r"[\w$\- ]+", key):
                    visit(inner, f"{path}.{key}" if path else key, in_list)
        elif isinstance(value, list):
            if not in_list and path:
                for item in value[:20]:
                    visit(item, f"{path}[]", True)
        elif path:
            examples = found.setdefault(path, {})
            if value is not None and len(examples) < 15 and not isinstance(value, float):
                examples[shown(value)[:80]] = None

    for document in documents:
        visit(document, "", False)
    return {path: list(examples) for path, examples in sorted(found.items())}


# The view model of a rule tree -----------------------------------------------------------------


def view_tree(rule: dict, errors: list[dict], *, traits: dict | None = None, properties=None) -> dict:
    """The rule as nested dicts the template renders: path, node, its problems, its children.

    ``traits`` (path → example values) and ``properties`` (event name → that) feed the pickers.
    """
    by_path: dict[str, dict] = {}
    traits = traits or {}
    properties = properties or (lambda event: {})

    def walk(node, path: str) -> dict:
        item = {"path": path, "node": node, "errors": [], "children": [], "kind": node.get("type")}
        by_path[path] = item
        if node.get("type") in GROUPS:
            for index, child in enumerate(node.get("conditions") or []):
                if isinstance(child, dict):
                    item["children"].append(walk(child, f"{path}.conditions[{index}]".lstrip(".")))
        elif node.get("type") == "not" and isinstance(node.get("condition"), dict):
            item["children"].append(walk(node["condition"], f"{path}.condition".lstrip(".")))
        if node.get("type") == "trait":
            item["value_text"] = shown(node.get("value"))
            item["examples"] = traits.get(node.get("trait", ""), [])
        if node.get("type") in ("event", "sequence"):
            item["steps"] = _filters_view(node, properties)
            item["aggregate"] = node.get("aggregate") or {}
            item["count"] = node.get("count") or {}
            item["window"] = node.get("window") or {"type": "ever"}
        item["dom_id"] = "n-" + (re.sub(r"[^a-z0-9]+", "-", path).strip("-") or "root")
        return item

    tree = walk(rule if isinstance(rule, dict) else {}, "")
    for error in errors:
        owner = max((p for p in by_path if _owns(p, error["path"])), key=len, default="")
        by_path[owner]["errors"].append(
            error["message"] if owner == error["path"] else _field_error(owner, error)
        )
    return tree


def _owns(node_path: str, error_path: str) -> bool:
    return not node_path or error_path == node_path or error_path.startswith(node_path + ".")


def _field_error(owner: str, error: dict) -> str:
    field = error["path"][len(owner) :].lstrip(".") if owner else error["path"]
    return f"{field}: {error['message']}" if field else error["message"]


def _filters_view(node: dict, properties) -> list[dict]:
    holders = (
        [("", node)] if node.get("type") == "event" else [(s, node.get(s) or {}) for s in ("first", "then")]
    )
    views = []
    for step, holder in holders:
        found = properties(holder.get("event", "")) if holder.get("event") else {}
        views.append(
            {
                "step": step,
                "event": holder.get("event", ""),
                "property_names": list(found),
                "filters": [
                    {
                        "index": i,
                        "filter": f,
                        "value_text": shown(f.get("value")),
                        "examples": found.get(f.get("property", ""), []),
                    }
                    for i, f in enumerate(holder.get("filters") or [])
                    if isinstance(f, dict)
                ],
            }
        )
    return views


def estimate(rule: dict) -> int:
    """How many profiles a valid rule selects now."""
    return rules.matching_profiles(rule).count()


def problems(rule: dict) -> list[dict]:
    try:
        rules.validate(rule)
    except rules.RuleError as error:
        return error.errors
    return []
