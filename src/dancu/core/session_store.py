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
  transaction; inside one, Django's savepoint is kept).

Everything else — expiry, clearing, the table, the cookie — is Django's ``db`` backend.
Selected by ``SESSION_ENGINE = "dancu.core.session_store"``.
"""

from __future__ import annotations

import base64
import secrets

from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.db import IntegrityError, connections, router


class SessionStore(DbSessionStore):
    def _get_new_session_key(self) -> str:
        # 160 random bits in one read, as 32 base32 characters (a-z, 2-7: all in Django's
        # VALID_KEY_CHARS) — get_random_string would read the system's random source per character
        return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()

    def cycle_key(self) -> None:
        data = self._session
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

    def save(self, must_create: bool = False) -> None:
        if must_create and self.session_key is not None:
            obj = self.create_model_instance(self._get_session(no_load=True))
            using = router.db_for_write(self.model, instance=obj)
            if connections[using].get_autocommit():
                try:
                    obj.save(force_insert=True, using=using)
                except IntegrityError:
                    raise CreateError from None
                return
        super().save(must_create)
