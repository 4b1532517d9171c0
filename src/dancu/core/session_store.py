"""Django's database session store, with the session row written once per request.

Django's ``db`` backend, on login (``cycle_key``), picks a key with a look-up (``SELECT … WHERE
session_key = …``), INSERTs the row at once inside a savepoint, and the session middleware then
UPDATEs the same row with the data the login put in it: four round trips where one will do.
Here:

- a new key is 32 random characters (160 bits) taken without the look-up; the INSERT's
  primary key still refuses a duplicate, and Django's ``create`` then draws another key;
- ``cycle_key`` forgets the old key (deleting its row, as before) and leaves the new one to be
  chosen when the session middleware saves the response's session: one INSERT;
- deleting a session (the old key at login, logout) is one DELETE (Django reads the row first);
- that INSERT, outside any transaction, runs in autocommit (Django wraps it in an atomic block,
  i.e. BEGIN and COMMIT round trips, only to keep a failed INSERT from breaking an enclosing
  transaction; inside one, Django's savepoint is kept);
- a caller that writes its own record when a session starts (the e-ID login's record) can write
  the session's row in the same statement or transaction: ``new_row()`` gives the row under a new
  key (``insert_sql()`` with ``row.params()`` on PostgreSQL, ``row.insert()`` elsewhere), and once
  that committed, ``row.written()`` — the response's save then writes nothing, unless the session
  changed since (it is then UPDATEd, as Django would).

Everything else — expiry, clearing, the table, the cookie — is Django's ``db`` backend.
Selected by ``SESSION_ENGINE = "dancu.core.session_store"``.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass, field
from functools import cache

from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import IntegrityError, connections, router


@cache
def insert_sql() -> str:
    """The INSERT of a new session's row, for a statement of the caller's (named parameters:
    ``NewRow.params()``)."""
    table = SessionStore.get_model_class()._meta.db_table
    return (f"INSERT INTO {table} (session_key, session_data, expire_date) "  # noqa: S608
            "VALUES (%(session_key)s, %(session_data)s, %(expire_date)s)")


@dataclass(frozen=True)
class NewRow:
    """A session's row under a new key, for the caller to write with its own record."""

    session_key: str
    session_data: str
    expire_date: dt.datetime
    store: SessionStore = field(repr=False, compare=False)
    snapshot: bytes = field(repr=False, compare=False)  # the data as encoded

    def params(self) -> dict[str, object]:
        return {"session_key": self.session_key, "session_data": self.session_data,
                "expire_date": self.expire_date}

    def insert(self) -> None:
        """The INSERT through the ORM (inside the caller's transaction)."""
        self.store.model(session_key=self.session_key, session_data=self.session_data,
                         expire_date=self.expire_date).save(force_insert=True)

    def written(self) -> None:
        """The caller's statement or transaction committed with this row in it."""
        self.store._written = (self.session_key, self.snapshot)


class SessionStore(DbSessionStore):
    _written: tuple[str, bytes] | None = None  # key and contents of the row a caller wrote

    def _get_new_session_key(self) -> str:
        # 160 random bits in one read, as 32 base32 characters (a-z, 2-7: all in Django's
        # VALID_KEY_CHARS) — get_random_string would read the system's random source per character
        return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()

    def cycle_key(self) -> None:
        data = self._session  # type: ignore[attr-defined]  # SessionBase's; not in django-stubs
        key = self.session_key
        self._session_key = None  # a new key, drawn when the session is saved (one INSERT)
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self.model.objects.filter(session_key=session_key).delete()

    def _snapshot(self) -> bytes:
        return self.serializer().dumps(self._get_session(no_load=True))  # type: ignore[attr-defined]  # see above

    def new_row(self) -> NewRow:
        """This session (which has no key yet: new, or after ``cycle_key``) under a new key,
        encoded, for a caller to INSERT with its own record (then ``row.written()``). The key is
        drawn without a look-up, as for ``save``; a duplicate (1 in 2^160) fails the caller's
        statement."""
        if self._session_key is not None:  # a row of its own exists: cycle_key() first
            raise ValueError("new_row() is for a session without a key (after cycle_key)")
        self._session_key = self._get_new_session_key()
        return NewRow(self._session_key, self.encode(self._get_session(no_load=True)),  # type: ignore[attr-defined]
                      self.get_expiry_date(), self, self._snapshot())

    def save(self, must_create: bool = False) -> None:
        if (self._written is not None and not must_create and self._written[0] == self.session_key
                and self._written[1] == self._snapshot()):
            return  # its row, as it is now, was written with the caller's record
        if must_create and self.session_key is not None:
            obj = self.create_model_instance(self._get_session(no_load=True))  # type: ignore[attr-defined]
            using = router.db_for_write(self.model, instance=obj)
            if connections[using].get_autocommit():
                try:
                    obj.save(force_insert=True, using=using)
                except IntegrityError:
                    raise CreateError from None
                return
        super().save(must_create)
