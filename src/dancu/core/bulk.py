"""Bulk writes of plain tuples, the same on every backend: COPY on PostgreSQL,
``executemany`` elsewhere. A tool for the contexts' own bulk paths (each app still writes
only its own tables with it).

The initial-load helpers (``non_empty``, ``lock_exclusive``, ``LoadWindow``) follow
PostgreSQL's "Populating a Database": inside the caller's transaction, lock the tables, drop
their secondary indexes and foreign keys (their definitions read from ``pg_catalog`` first),
load, and build everything again, one pass each. DDL is transactional in PostgreSQL: if
anything fails the rollback restores the tables and every index and constraint as they were.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    def __init__(self, *, exclusive: bool = False) -> None:
        self.exclusive = exclusive

    def adapt(self, rows: list[tuple], date_cols: tuple[int, ...],
              datetime_cols: tuple[int, ...]) -> list[tuple]:
        return rows  # psycopg sends dates and aware datetimes as they are

    def reserve_ids(self, model: type, n: int) -> list[int]:
        if n < 1:
            return []
        with connection.cursor() as cur:
            if self.exclusive:
                # The table is locked (ACCESS EXCLUSIVE): no other insert can draw from its
                # sequence between these two calls, so one step reserves the whole block.
                cur.execute(f"SELECT setval(s, nextval(s) + %s - 1) FROM "  # noqa: S608
                            f"pg_get_serial_sequence('{table_of(model)}', 'id') s", [n])
                last = cur.fetchone()[0]
                return list(range(last - n + 1, last + 1))
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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a bulk loop, one collection at the end.

    A chunk of rows is hundreds of thousands of live dicts and tuples; the collector, run
    every few hundred allocations, walks them again and again — about 40 % of the import's
    validation time. The bulk loops create no reference cycles per row (measured: a whole
    import of 200,000 rows leaves about 500 objects in cycles, from the database layer), and
    reference counting frees everything else as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def make_sink(*, exclusive: bool = False) -> Sink:
    """``exclusive``: the caller holds ACCESS EXCLUSIVE locks on the tables it writes
    (PostgreSQL), so primary keys are reserved a block at a time."""
    return CopySink(exclusive=exclusive) if connection.vendor == "postgresql" else Sink()


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


# --- initial load (PostgreSQL) -----------------------------------------------------------------

def non_empty(tables: Sequence[str]) -> list[str]:
    """The tables among ``tables`` that hold at least one row."""
    out = []
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")  # noqa: S608
            if cur.fetchone()[0]:
                out.append(table)
    return out


def lock_exclusive(tables: Sequence[str]) -> None:
    """ACCESS EXCLUSIVE locks on ``tables`` until the end of the caller's transaction:
    nobody else reads or writes them meanwhile (PostgreSQL)."""
    names = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")


_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisunique,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) k
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k),
       c.conname, pg_get_constraintdef(c.oid)
FROM pg_index i
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                         AND c.contype IN ('u', 'x')
WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
ORDER BY 1"""
_FOREIGN_KEYS_SQL = ("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                     "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname")


class LoadWindow:
    """The secondary indexes and foreign keys of some tables, dropped for an initial load and
    built again afterwards, inside the caller's transaction (PostgreSQL).

    ``open()`` drops the foreign keys the tables hold (not those pointing at them), their
    secondary indexes and UNIQUE/EXCLUDE constraints — except the primary keys and the
    single-column unique indexes named in ``keep_unique`` (table → columns), which the loader
    looks rows up by. It first reads the statements that re-create them
    (``pg_get_indexdef``/``pg_get_constraintdef``), so they cannot drift from the migrations.
    It never cascades: if something else depends on an object, the drop fails, and the
    transaction with it. ``close()`` runs those statements (each index one sort, each foreign
    key validated by one join, with ``maintenance_work_mem`` raised for the transaction), then
    ANALYZEs the tables. Run both inside one transaction, after ``lock_exclusive``; a rollback
    anywhere restores everything as it was."""

    def __init__(self, tables: Sequence[str], *, keep_unique: Mapping[str, Collection[str]] | None = None,
                 maintenance_work_mem: str = "256MB") -> None:
        self.tables = list(tables)
        self.keep_unique = keep_unique or {}
        self.maintenance_work_mem = maintenance_work_mem
        self.restore: list[str] = []

    def open(self) -> None:
        qn = connection.ops.quote_name
        indexes: list[str] = []
        foreign_keys: list[str] = []
        drops: list[str] = []
        with connection.cursor() as cur:
            for table in self.tables:
                cur.execute(_FOREIGN_KEYS_SQL, [table])
                for name, definition in cur.fetchall():
                    drops.append(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
                    foreign_keys.append(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
            for table in self.tables:
                cur.execute(_INDEXES_SQL, [table])
                for index, index_def, unique, columns, constraint, constraint_def in cur.fetchall():
                    if unique and len(columns) == 1 and columns[0] in self.keep_unique.get(table, ()):
                        continue
                    if constraint:
                        drops.append(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(constraint)}")
                        indexes.append(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(constraint)} "
                                       f"{constraint_def}")
                    else:
                        drops.append(f"DROP INDEX {index}")
                        indexes.append(index_def)
            for statement in drops:
                cur.execute(statement)
        self.restore = [*indexes, *foreign_keys]

    def close(self) -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('maintenance_work_mem', %s, true)", [self.maintenance_work_mem])
            for statement in self.restore:
                cur.execute(statement)
            cur.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in self.tables)}")
        self.restore = []
