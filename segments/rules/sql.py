"""Typed reads of JSON values, in SQL that means the same on PostgreSQL and SQLite.

The ORM's JSON key lookups compare JSON values by each database's own rules
(SQLite reads ``true`` as 1, PostgreSQL never casts a string to a number), so
the rule compiler reads a value *as a type* instead: :class:`JSONValue` is the
value at a path if it has that JSON type and NULL otherwise, and
:class:`JSONCondition` is a comparison that is TRUE or FALSE, never NULL, so
``not`` in a rule means exactly "the opposite". This is the one place in the
project with hand-written SQL for rules: operators come from the whitelists
below, keys and values are always query parameters.

A path may go through one list (``products[].category``): the condition then
holds when any item of the list satisfies it (EXISTS over ``jsonb_array_elements``
on PostgreSQL and ``json_each`` on SQLite).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Expression, F, FloatField

# A strict ISO 8601 date or date-time: the same strings parse on both databases
# (and in Python), so an impossible date such as 2026-02-30 never reaches a cast.
_YEAR = "[1-9][0-9]{3}"
_LEAP = "([1-9][0-9](0[48]|[2468][048]|[13579][26])|(1[26]|[2468][048]|[3579][26])00)"
ISO_DATE_RE = (
    "^("
    f"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    f"|{_YEAR}-(0[13-9]|1[0-2])-(29|30)"
    f"|{_YEAR}-(0[13578]|1[02])-31"
    f"|{_LEAP}-02-29"
    ")"
    "([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])?)?$"
)

KINDS = ("text", "number", "bool", "date")

# op -> SQL comparison operator, for typed values compared with one parameter.
COMPARE_SQL = {"equals": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "before": "<", "after": ">"}


@dataclass(frozen=True)
class JSONPath:
    """Where a value lives in a JSON column: keys, optionally through one list."""

    keys: tuple[str, ...]  # up to the list (or the whole path when there is no list)
    item_keys: tuple[str, ...] | None = None  # inside each list item; None: no list

    @classmethod
    def parse(cls, text: str) -> JSONPath:
        """'address.city' -> keys (address, city); 'products[].category' -> list products, item key category."""
        before, sep, after = text.partition("[]")
        keys = tuple(before.split("."))
        if not sep:
            return cls(keys)
        rest = after.removeprefix(".")
        return cls(keys, tuple(rest.split(".")) if rest else ())

    @property
    def has_list(self) -> bool:
        return self.item_keys is not None


def iso_utc(moment: datetime) -> str:
    """A parameter SQLite's julianday() reads as UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class _Locator:
    """SQL pieces that read the JSON value at one place, per database."""

    def __init__(self, vendor: str, column_sql: str, column_params: list, keys: tuple[str, ...]):
        self.vendor = vendor
        self.column_sql = column_sql
        self.column_params = list(column_params)
        self.keys = keys
        self.item_alias: str | None = None  # set when reading inside a list item

    # PostgreSQL: a jsonb expression; SQLite: json_type()/json_extract() on the column.
    def _pg_json(self) -> tuple[str, list]:
        if self.item_alias:
            base, params = f"{self.item_alias}.value", []
        else:
            base, params = self.column_sql, list(self.column_params)
        if not self.keys:
            return base, params
        return f"({base} #> %s::text[])", [*params, list(self.keys)]

    def _sqlite_path(self) -> tuple[str, list]:
        suffix = "".join(f".{json.dumps(k)}" for k in self.keys)
        if self.item_alias:
            return f"({self.item_alias}.fullkey || %s)", [suffix]
        return "%s", ["$" + suffix]

    def typed(self, kind: str) -> tuple[str, list]:
        """The value as ``kind`` (text, number, bool, date, or 'present' as a boolean), NULL otherwise."""
        if self.vendor == "postgresql":
            j, p = self._pg_json()
            txt = f"({j} #>> '{{}}')"
            if kind == "present":
                return f"(coalesce(jsonb_typeof({j}), 'null') <> 'null')", p
            if kind == "text":
                return f"(CASE WHEN jsonb_typeof({j}) = 'string' THEN {txt} END)", p + p
            if kind == "number":
                return f"(CASE WHEN jsonb_typeof({j}) = 'number' THEN {txt}::double precision END)", p + p
            if kind == "bool":
                return f"(CASE WHEN jsonb_typeof({j}) = 'boolean' THEN {txt}::boolean END)", p + p
            if kind == "date":
                return (
                    f"(CASE WHEN jsonb_typeof({j}) = 'string' AND {txt} ~ %s THEN {txt}::timestamptz END)",
                    [*p, *p, ISO_DATE_RE, *p],
                )
        else:
            path, pp = self._sqlite_path()
            col, cp = self.column_sql, self.column_params
            t, tp = f"json_type({col}, {path})", [*cp, *pp]
            v, vp = f"json_extract({col}, {path})", [*cp, *pp]
            if kind == "present":
                return f"(coalesce({t}, 'null') <> 'null')", tp
            if kind == "text":
                return f"(CASE WHEN {t} = 'text' THEN {v} END)", tp + vp
            if kind == "number":
                return f"(CASE WHEN {t} IN ('integer', 'real') THEN {v} END)", tp + vp
            if kind == "bool":
                return f"(CASE WHEN {t} IN ('true', 'false') THEN {t} = 'true' END)", tp + tp
            if kind == "date":
                return (
                    f"(CASE WHEN {t} = 'text' AND {v} REGEXP %s THEN julianday({v}) END)",
                    [*tp, *vp, ISO_DATE_RE, *vp],
                )
        raise ValueError(f"unknown kind {kind!r}")

    def date_param(self, moment: datetime) -> tuple[str, list]:
        if self.vendor == "postgresql":
            return "%s::timestamptz", [moment]
        return "julianday(%s)", [iso_utc(moment)]

    def in_list_items(self, list_keys: tuple[str, ...], inner_sql_factory) -> tuple[str, list]:
        """EXISTS over the items of the list at ``list_keys``; inner_sql_factory(locator) -> (sql, params)."""
        alias = "_cxo_item"
        if self.vendor == "postgresql":
            outer = _Locator(self.vendor, self.column_sql, self.column_params, list_keys)
            j, p = outer._pg_json()
            item = _Locator(self.vendor, self.column_sql, self.column_params, self.keys)
            item.item_alias = alias
            inner, ip = inner_sql_factory(item)
            sql = (
                # Only our own SQL fragments are formatted in; keys and values are parameters.
                f"EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({j}) = 'array' "  # noqa: S608
                f"THEN {j} ELSE '[]'::jsonb END) AS {alias}(value) WHERE {inner})"
            )
            return sql, [*p, *p, *ip]
        outer = _Locator(self.vendor, self.column_sql, self.column_params, list_keys)
        path, pp = outer._sqlite_path()
        item = _Locator(self.vendor, self.column_sql, self.column_params, self.keys)
        item.item_alias = alias
        inner, ip = inner_sql_factory(item)
        sql = (
            f"EXISTS (SELECT 1 FROM json_each({self.column_sql}, {path}) AS {alias} "  # noqa: S608
            f"WHERE json_type({self.column_sql}, {path}) = 'array' AND {inner})"
        )
        return sql, [*self.column_params, *pp, *self.column_params, *pp, *ip]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def comparison_sql(loc: _Locator, op: str, value, now: datetime) -> tuple[str, list]:
    """SQL for one whitelisted comparison at a located value; may be NULL (the caller coalesces)."""
    from datetime import timedelta

    from .dates import parse_date

    if op in ("exists", "not_exists"):
        sql, p = loc.typed("present")
        return (sql if op == "exists" else f"(NOT {sql})"), p
    if op in ("equals", "not_equals"):
        kind = "bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else "text"
        sql, p = loc.typed(kind)
        eq = f"({sql} = %s)"
        params = [*p, float(value) if kind == "number" else value]
        return (eq if op == "equals" else f"(NOT coalesce({eq}, FALSE))"), params
    if op in ("contains", "starts_with"):
        sql, p = loc.typed("text")
        # LOWER() on both sides: the same folding on each database (SQLite folds ASCII letters only).
        pattern = _escape_like(value) + "%"
        if op == "contains":
            pattern = "%" + pattern
        return f"(LOWER({sql}) LIKE LOWER(%s) ESCAPE '\\')", [*p, pattern]
    if op == "in":
        parts, params = [], []
        texts = [v for v in value if isinstance(v, str)]
        numbers = [float(v) for v in value if not isinstance(v, str)]
        for kind, values in (("text", texts), ("number", numbers)):
            if values:
                sql, p = loc.typed(kind)
                parts.append(f"({sql} IN ({', '.join(['%s'] * len(values))}))")
                params += [*p, *values]
        return "(" + " OR ".join(parts) + ")", params
    if op in ("gt", "gte", "lt", "lte"):
        sql, p = loc.typed("number")
        return f"({sql} {COMPARE_SQL[op]} %s)", [*p, float(value)]
    if op in ("before", "after"):
        sql, p = loc.typed("date")
        rhs, rp = loc.date_param(parse_date(value))
        return f"({sql} {COMPARE_SQL[op]} {rhs})", [*p, *rp]
    if op == "within_last_days":
        sql, p = loc.typed("date")
        lo, lp = loc.date_param(now - timedelta(days=value))
        hi, hp = loc.date_param(now)
        return f"({sql} >= {lo} AND {sql} <= {hi})", [*p, *lp, *p, *hp]
    raise ValueError(f"unknown operator {op!r}")


class _AtJSONPath(Expression):
    """Something about the value at ``path`` in the JSON column ``column``."""

    def __init__(self, column: str, path: str):
        super().__init__()
        self.column = F(column)
        self.path = JSONPath.parse(path)

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        clone = self.copy()
        clone.column = self.column.resolve_expression(query, allow_joins, reuse, summarize, for_save)
        return clone

    def compile_column(self, compiler, connection) -> tuple[str, str, list]:
        """(vendor, column SQL, its params); only SQLite and PostgreSQL are supported."""
        if connection.vendor not in ("sqlite", "postgresql"):
            raise ImproperlyConfigured(
                f"audience rules run on SQLite and PostgreSQL, not {connection.vendor}"
            )
        col_sql, col_params = compiler.compile(self.column)
        return connection.vendor, col_sql, col_params


class JSONCondition(_AtJSONPath):
    """``column`` at ``path`` satisfies ``op value``: a boolean that is never NULL.

    ``column`` names a NOT NULL JSON column (traits, consent, properties).
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, path: str, op: str, value, *, now: datetime):
        super().__init__(column, path)
        self.op, self.value, self.now = op, value, now

    def as_sql(self, compiler, connection):
        vendor, col_sql, col_params = self.compile_column(compiler, connection)
        if vendor == "postgresql" and self.op in ("equals", "in", "not_equals"):
            contained = self._pg_containment(col_sql, col_params)
        else:
            contained = None
        if contained:
            # traits, consent and properties are NOT NULL columns, so containment is never NULL;
            # left bare, a GIN (jsonb_path_ops) index on the column can answer it.
            return contained
        if self.path.has_list:
            loc = _Locator(vendor, col_sql, col_params, self.path.item_keys)
            sql, params = loc.in_list_items(
                self.path.keys, lambda item: comparison_sql(item, self.op, self.value, self.now)
            )
        else:
            loc = _Locator(vendor, col_sql, col_params, self.path.keys)
            sql, params = comparison_sql(loc, self.op, self.value, self.now)
        false = "FALSE" if vendor == "postgresql" else "0"
        return f"coalesce({sql}, {false})", params

    def _pg_containment(self, col_sql: str, col_params: list) -> tuple[str, list] | None:
        """Equality as jsonb containment (``@>``): the same meaning, several times faster, GIN-indexable.

        ``{"products": [{"category": "yoga"}]}`` is contained exactly when some item of the
        list ``products`` has the string ``category`` "yoga"; a typed value never equals
        another type, as in the generic path. "Some item is not equal" has no containment
        form, so not_equals through a list takes the generic path.
        """
        if self.op == "not_equals" and self.path.has_list:
            return None

        def document(value) -> str:
            inner = value
            if self.path.has_list:
                for key in reversed(self.path.item_keys):
                    inner = {key: inner}
                inner = [inner]
            for key in reversed(self.path.keys):
                inner = {key: inner}
            return json.dumps(inner)

        values = self.value if self.op == "in" else [self.value]
        sql = " OR ".join([f"{col_sql} @> %s::jsonb"] * len(values))
        params = [p for value in values for p in (*col_params, document(value))]
        if self.op == "not_equals":
            return f"(NOT ({sql}))", params
        return f"({sql})", params


class JSONNumber(_AtJSONPath):
    """The number at ``path`` in ``column`` (a JSON number only), NULL otherwise; for aggregates."""

    output_field = FloatField()

    def __init__(self, column: str, path: str):
        super().__init__(column, path)
        if self.path.has_list:
            raise ValueError("an aggregate needs a path without []")

    def as_sql(self, compiler, connection):
        vendor, col_sql, col_params = self.compile_column(compiler, connection)
        return _Locator(vendor, col_sql, col_params, self.path.keys).typed("number")
