"""Bearer-token authentication of the JSON API (internal service accounts and police accounts).

``Authorization: Bearer dct_…`` → the SHA-256 digest of the token → one indexed query
(token + profile + user + jurisdiction) → an ``Actor`` with source ``"api"``, which every
selector and service then checks exactly as in the console.

The look-up sits on the hot path of every API call, so a resolved token is kept in a small
per-process cache for ``DANCU_API_TOKEN_CACHE_SECONDS`` seconds (default 30; 0 disables it).
Consequence, documented in docs/api.md: revoking a token, deactivating its user or changing
the officer's role/area takes effect on running servers within that many seconds. Unknown and
revoked tokens are never cached, so a new token works at once. ``last_used_at`` is written at
most once a minute per token and process, never on every request.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from dancu.accounts import services
from dancu.accounts.actor import Actor
from dancu.accounts.models import ApiToken
from dancu.core.net import client_ip

DEFAULT_CACHE_SECONDS = 30.0
TOUCH_INTERVAL_SECONDS = 60.0
MAX_CACHED_TOKENS = 4096
TOKEN_MAX_LENGTH = 200


@dataclasses.dataclass
class _Entry:
    actor: Actor  # without ip: the ip is the request's
    token_id: int
    expires: float
    touched: float  # clock() when last_used_at was last written (or read fresh) by us


class _Expiring(Protocol):
    @property
    def expires(self) -> float: ...  # read-only: frozen dataclasses qualify


E = TypeVar("E", bound=_Expiring)


class TokenCache(Generic[E]):
    """Key → resolved entry (anything with ``expires``, monotonic seconds), per process: API
    tokens here, OAuth clients in ``dancu.oidc.hooks``. ``clock`` is replaceable in tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, E] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> E | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.expires <= self.clock():
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, entry: E) -> None:
        with self._lock:
            if len(self._entries) >= MAX_CACHED_TOKENS:
                self._entries.clear()
            self._entries[digest] = entry

    def pop(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


token_cache: TokenCache[_Entry] = TokenCache()


def cache_seconds() -> float:
    return float(getattr(settings, "DANCU_API_TOKEN_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def actor_for_bearer(token: str, ip: str | None = None) -> Actor | None:
    """The actor behind a bearer token, or None when unknown, revoked or its user inactive.

    The rule is ``accounts.services.api_token_actor``'s; this adds the cache and the throttled
    ``last_used_at`` write."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    digest = services.token_digest(token)
    now = token_cache.clock()
    entry = token_cache.get(digest)
    if entry is None:
        entry = _load(digest, now)
        if entry is None:
            return None
    if now - entry.touched >= TOUCH_INTERVAL_SECONDS:
        entry.touched = now
        _touch(entry.token_id)
    return dataclasses.replace(entry.actor, ip=ip) if ip else entry.actor


def _load(digest: str, now: float) -> _Entry | None:
    found = services.api_token_actor(digest)
    if found is None:
        return None
    actor, row = found
    # A token whose last_used_at is recent enough needs no write now.
    touched = now - TOUCH_INTERVAL_SECONDS
    if row.last_used_at is not None:
        age = (timezone.now() - row.last_used_at).total_seconds()
        if 0 <= age < TOUCH_INTERVAL_SECONDS:
            touched = now - age
    entry = _Entry(actor=actor, token_id=row.pk, expires=now + cache_seconds(), touched=touched)
    if cache_seconds() > 0:
        token_cache.put(digest, entry)
    return entry


def _touch(token_id: int) -> None:
    ApiToken.objects.filter(pk=token_id).update(last_used_at=timezone.now())


class TokenAuth(HttpBearer):
    """ninja auth class: ``request.auth`` becomes the ``Actor``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return actor_for_bearer(token.strip(), client_ip(request))
