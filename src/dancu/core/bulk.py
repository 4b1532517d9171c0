"""Bulk writes of plain tuples, the same on every backend: COPY on PostgreSQL,
``executemany`` elsewhere. A tool for the contexts' own bulk paths (each app still writes
only its own tables with it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection


def table_of(model: Any) -> str:
    return model._meta.db_table


class Sink:
    """Inserts rows of plain tuples. ``executemany`` here; ``CopySink`` on PostgreSQL."""

    def reserve_ids(self, model: type, n: int) -> list[int]:
        """Primary keys for ``n`` new rows, so links inside a chunk need no second write.
        SQLite holds the write lock for the whole transaction (BEGIN IMMEDIATE), so MAX+1 is safe."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table_of(model)}")  # noqa: S608
            start = cur.fetchone()[0] + 1
        return list(range(start, start + n))

    def adapt(self, rows: list[tuple], date_cols: tuple[int, ...],
              datetime_cols: tuple[int, ...]) -> list[tuple]:
        """Values as the backend stores them (SQLite: text dates, naive UTC datetimes)."""
        ops = connection.ops
        out = []
        for row in rows:
            values = list(row)
            for i in date_cols:
                values[i] = ops.adapt_datefield_value(values[i])
            for i in datetime_cols:
                values[i] = ops.adapt_datetimefield_value(values[i])
            out.append(tuple(values))
        return out

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
               f"VALUES ({', '.join(['%s'] * len(columns))})")
        with connection.cursor() as cur:
            cur.executemany(sql, rows)


class CopySink(Sink):
    def adapt(self, rows: list[tuple], date_cols: tuple[int, ...],
              datetime_cols: tuple[int, ...]) -> list[tuple]:
        return rows  # psycopg sends dates and aware datetimes as they are

    def reserve_ids(self, model: type, n: int) -> list[int]:
        with connection.cursor() as cur:
            cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table_of(model)}', 'id')) "  # noqa: S608
                        "FROM generate_series(1, %s)", [n])
            return [r[0] for r in cur.fetchall()]

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        with connection.cursor() as cur, connection.wrap_database_errors:  # psycopg → django.db errors
            raw = cur.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)


def make_sink() -> Sink:
    return CopySink() if connection.vendor == "postgresql" else Sink()


def select_in(sql: str, column: str, values: Iterable[Any]) -> list[tuple]:
    """``sql WHERE column IN values`` for many values: one array parameter on PostgreSQL
    (``= ANY(%s)``; no query text with thousands of placeholders), batches of 500 elsewhere."""
    values = list(values)
    if not values:
        return []
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"{sql} WHERE {column} = ANY(%s)", [values])
            return cur.fetchall()
        out: list[tuple] = []
        for start in range(0, len(values), 500):
            part = values[start:start + 500]
            cur.execute(f"{sql} WHERE {column} IN ({', '.join(['%s'] * len(part))})", part)
            out.extend(cur.fetchall())
        return out
