"""Multi-row INSERTs for the hot paths (collection and processing), on SQLite and PostgreSQL.

The ORM's ``bulk_create`` spends more time building SQL than the database spends running it; these
helpers send one parameterised ``INSERT … VALUES (…), (…)`` per chunk. Table and column names come
from the model, never from input; values are always parameters.
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
    """Insert ``rows`` (tuples in ``columns`` order); JSON columns take JSON text. Returns RETURNING values."""
    if not rows:
        return []
    cast = connection.vendor == "postgresql"
    placeholder = "(" + ", ".join("%s::jsonb" if cast and c in json_columns else "%s" for c in columns) + ")"
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
