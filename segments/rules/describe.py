"""Reading a rule without running it: in words, and what can change its result."""

from __future__ import annotations

import json

from .compiler import ensure_valid

OP_WORDS = {
    "equals": "=",
    "not_equals": "≠",
    "contains": "contains",
    "starts_with": "starts with",
    "in": "is one of",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "before": "is before",
    "after": "is after",
    "within_last_days": "is within the last",
    "exists": "is set",
    "not_exists": "is not set",
}
COUNT_WORDS = {"at_least": "at least", "at_most": "at most", "exactly": "exactly"}


def _value(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _comparison(subject: str, node: dict) -> str:
    op, value = node["op"], node.get("value")
    if op in ("exists", "not_exists"):
        return f"{subject} {OP_WORDS[op]}"
    if op == "in":
        return f"{subject} is one of {', '.join(_value(v) for v in value)}"
    if op == "within_last_days":
        return f"{subject} is within the last {_value(value)} days"
    return f"{subject} {OP_WORDS[op]} {_value(value)}"


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _window(window: dict | None) -> str:
    if not window or window["type"] == "ever":
        return "ever"
    if window["type"] == "last_days":
        return f"in the last {_value(window['days'])} days"
    return f"between {window['from']} and {window['to']}"


def _filters(filters: list[dict]) -> str:
    if not filters:
        return ""
    return " with " + " and ".join(_comparison(f["property"].replace("[]", ""), f) for f in filters)


def _event(node: dict) -> str:
    name, window = node["event"], _window(node.get("window"))
    filters = _filters(node.get("filters", []))
    verb = "bought" if name == "Order Completed" and filters else "did"
    subject = f"{verb} ({name})" if verb == "bought" else f"did {name}"
    count = node.get("count") or {"op": "at_least", "value": 1}
    parts = [f"{COUNT_WORDS[count['op']]} {_times(count['value'])}"]
    aggregate = node.get("aggregate")
    if aggregate:
        fn = "total" if aggregate["fn"] == "sum" else "average"
        parts.append(
            f"with {fn} {aggregate['property']} {OP_WORDS[aggregate['op']]} {_value(aggregate['value'])}"
        )
    text = f"{subject}{filters} {' '.join(parts)} {window}"
    if node["op"] == "did":
        return text
    if count == {"op": "at_least", "value": 1} and not aggregate:
        return f"did not do {name}{filters} {window}"
    return f"not ({text})"


def _sequence(node: dict) -> str:
    first = f"{node['first']['event']}{_filters(node['first'].get('filters', []))}"
    then = f"{node['then']['event']}{_filters(node['then'].get('filters', []))}"
    window = node.get("window")
    when = f" ({_window(window)})" if window and window["type"] != "ever" else ""
    verb = "then" if node["op"] == "did" else "then no"
    return f"did {first}{when} {verb} {then} within {_value(node['within_days'])} days"


def _describe(node: dict, top: bool) -> str:
    kind = node["type"]
    if kind in ("and", "or"):
        parts = [_describe(child, False) for child in node["conditions"]]
        if len(parts) == 1:
            return parts[0]
        joined = f", {kind} ".join(parts)
        return joined if top else f"({joined})"
    if kind == "not":
        return f"not {_describe(node['condition'], False)}"
    if kind == "trait":
        return _comparison(node["trait"], node)
    if kind == "event":
        return _event(node)
    if kind == "sequence":
        return _sequence(node)
    if kind == "audience":
        is_in = "is in" if node.get("member", True) else "is not in"
        return f"{is_in} audience #{node['audience_id']}"
    if kind == "consent":
        state = "granted" if node["granted"] else "denied"
        assumed = "granted" if node.get("default", False) else "denied"
        return f"consent to {node['purpose']} is {state} (unknown counts as {assumed})"
    if kind == "score":
        return f"score of {node['model']} {OP_WORDS[node['op']]} {_value(node['value'])}"
    raise ValueError(kind)


def describe(rule: dict) -> str:
    """The rule in plain English, e.g. for the rule builder's preview."""
    ensure_valid(rule)
    return _describe(rule, True)


def event_names(rule: dict) -> set[str] | None:
    """Names of the events whose arrival can change the rule's result; None: any event may.

    Trait, consent, score and audience conditions answer None (identify calls,
    scoring runs and other audiences change them), so streaming evaluation
    re-evaluates such a rule on every event of a profile.
    """
    ensure_valid(rule)
    return _event_names(rule)


def _event_names(node: dict) -> set[str] | None:
    kind = node["type"]
    if kind in ("and", "or"):
        names: set[str] = set()
        for child in node["conditions"]:
            child_names = _event_names(child)
            if child_names is None:
                return None
            names |= child_names
        return names
    if kind == "not":
        return _event_names(node["condition"])
    if kind == "event":
        return {node["event"]}
    if kind == "sequence":
        return {node["first"]["event"], node["then"]["event"]}
    return None


def is_time_dependent(rule: dict) -> bool:
    """Whether the result can change with time alone, so batch re-evaluation is needed.

    True for windows relative to now, "within the last N days" on dates,
    "then no B" sequences (their follow-up time runs out), scores (recomputed
    in batch) and other audiences (which may themselves depend on time).
    """
    ensure_valid(rule)
    return _is_time_dependent(rule)


def _is_time_dependent(node: dict) -> bool:
    kind = node["type"]
    if kind in ("and", "or"):
        return any(_is_time_dependent(child) for child in node["conditions"])
    if kind == "not":
        return _is_time_dependent(node["condition"])
    if kind == "trait":
        return node["op"] == "within_last_days"
    if kind in ("event", "sequence"):
        filters = list(node.get("filters", []))
        if kind == "sequence":
            filters += node["first"].get("filters", []) + node["then"].get("filters", [])
            if node["op"] == "did_not":
                return True
        window = node.get("window") or {"type": "ever"}
        return window["type"] == "last_days" or any(f["op"] == "within_last_days" for f in filters)
    return kind in ("score", "audience")


def audience_ids(rule: dict) -> set[int]:
    """Ids of the audiences the rule refers to (to refuse cycles, or to chain re-evaluation)."""
    ensure_valid(rule)
    found: set[int] = set()

    def walk(node: dict) -> None:
        if node["type"] in ("and", "or"):
            for child in node["conditions"]:
                walk(child)
        elif node["type"] == "not":
            walk(node["condition"])
        elif node["type"] == "audience":
            found.add(node["audience_id"])

    walk(rule)
    return found
