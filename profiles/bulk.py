"""Bulk INSERTs for the hot paths (collection and processing), on SQLite and PostgreSQL.

The ORM's ``bulk_create`` spends more time building SQL than the database spends running it, and a
multi-row ``INSERT … VALUES (…), (…)`` with thousands of placeholders is slow too on PostgreSQL:
psycopg re-parses such a long statement on every call. So, on PostgreSQL:

- plain inserts go through ``COPY … FROM STDIN`` (ids, when wanted, are drawn from the table's
  sequence first, in one query);
- inserts with an ``ON CONFLICT`` clause send one short statement whose columns are arrays, unnested
  server-side (``INSERT … SELECT * FROM unnest(%s::bigint[], %s::text[], …)``).

SQLite gets the multi-row VALUES statement. Table and column names come from the model, never from
input; values are always parameters (or COPY data).
"""

from django.db import connection

MAX_PARAMS = 30000  # below PostgreSQL's 65,535 and SQLite's 32,766 bound parameters


def insert_rows(
    model,
    columns: list[str],
    rows: list[tuple],
    *,
    json_columns: frozenset = frozenset(),
    on_conflict: str = "",
    returning: str = "",
) -> list:
    """Insert ``rows`` (tuples in ``columns`` order); JSON columns take JSON text. Returns RETURNING values.

    Without ``on_conflict`` the returned values are in row order.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        if on_conflict:
            return _insert_unnest(model, columns, rows, json_columns, on_conflict, returning)
        return _copy(model, columns, rows, returning)
    return _insert_values(model, columns, rows, on_conflict, returning)


def _insert_values(model, columns, rows, on_conflict, returning) -> list:
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    head = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES "  # noqa: S608 - names from the model
    tail = (f" {on_conflict}" if on_conflict else "") + (f" RETURNING {returning}" if returning else "")
    per_chunk = max(1, MAX_PARAMS // len(columns))
    found: list = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_chunk):
            chunk = rows[start : start + per_chunk]
            params = [value for row in chunk for value in row]
            cursor.execute(head + ", ".join([placeholder] * len(chunk)) + tail, params)  # noqa: S608
            if returning:
                found.extend(row[0] for row in cursor.fetchall())
    return found


def _column_type(model, column: str) -> str:
    for field in model._meta.concrete_fields:
        if field.column == column:
            return field.db_type(connection)
    raise ValueError(f"{model.__name__} has no column {column}")


def _insert_unnest(model, columns, rows, json_columns, on_conflict, returning) -> list:
    arrays = [list(values) for values in zip(*rows, strict=True)]
    casts = ", ".join(
        "%s::text[]::jsonb[]" if c in json_columns else f"%s::{_column_type(model, c)}[]" for c in columns
    )
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - names from the model
        f"SELECT * FROM unnest({casts}) {on_conflict}" + (f" RETURNING {returning}" if returning else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return [row[0] for row in cursor.fetchall()] if returning else []


def _copy(model, columns, rows, returning) -> list:
    table = model._meta.db_table
    ids: list = []
    with connection.cursor() as cursor:
        if returning:
            if returning != model._meta.pk.column or returning in columns:
                raise ValueError("COPY can only return the primary key, drawn from its sequence")
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, returning, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = [returning, *columns]
            rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # noqa: S608
            for row in rows:
                copy.write_row(row)
    return ids
