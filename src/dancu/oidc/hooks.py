"""django-oauth-toolkit's token endpoint made cheaper through its own validator hooks.

Every grant — client credentials, refresh, authorization code — and every refusal is the
library's, with dancu's rules in ``dancu.oidc.validators``; nothing here decides anything. What
this mixin of the validator changes is only what the library reads again and again:

- **the client and its agreement**, cached per process for ``DANCU_API_TOKEN_CACHE_SECONDS``
  (default 30; the same ``TokenCache`` as API bearer tokens): each token request loaded the
  application (once more per refresh) and then its agreement. The cached application is handed
  to the library as ``request.client``, which it then re-uses (``_load_application``); the
  agreement comes with it (``select_related``). The agreement's dates are still compared with
  the clock on every request (``Validator._load_application``). A change saved in this process
  (a new secret, an ended or narrowed agreement) drops the entry at once; other processes see it
  within the cache's lifetime (docs/oidc.md).
- **whether ``get_additional_claims`` takes the request**: the library inspects its signature on
  every call (twice a grant); the answer is the class's, computed once.
- **the ID token just signed**: on issuing an access token with an ID token, the library parses
  the signed JWT it has just made, verifies its signature, loads the client by its audience and
  the ID token row by its ``jti`` (``_create_access_token`` → ``_load_id_token``). The row saved
  by this validator's ``finalize_id_token`` for this very token is returned instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save
from oauth2_provider.models import get_application_model

from dancu.accounts.auth import TokenCache, cache_seconds


@dataclass(frozen=True)
class _Client:
    application: Any  # the library's Application, its agreement loaded
    expires: float


_clients: TokenCache[_Client] = TokenCache()
_request_agnostic: dict[type, bool] = {}


def clear_cache() -> None:
    _clients.clear()


def _forget(sender: Any, instance: Any, **kwargs: Any) -> None:
    client_id = getattr(instance, "client_id", None)
    if client_id is None and getattr(instance, "application_id", None) is not None:
        client_id = (get_application_model().objects.filter(pk=instance.application_id)
                     .values_list("client_id", flat=True).first())
    if client_id is None:
        _clients.clear()
    else:
        _clients.pop(client_id)


def _connect_receivers() -> None:
    from dancu.oidc.models import Agreement

    for model in (get_application_model(), Agreement):
        post_save.connect(_forget, sender=model, dispatch_uid=f"dancu.oidc.hooks.{model.__name__}.save")
        post_delete.connect(_forget, sender=model, dispatch_uid=f"dancu.oidc.hooks.{model.__name__}.delete")


_connect_receivers()


def cached_application(client_id: str) -> Any | None:
    """The application with its agreement, from this process's cache or one query."""
    cached = _clients.get(client_id)
    if cached is not None:
        return cached.application
    application = (get_application_model().objects.select_related("agreement")
                   .filter(client_id=client_id).first())
    if application is not None and cache_seconds() > 0:
        _clients.put(client_id, _Client(application, _clients.clock() + cache_seconds()))
    return application


class LibraryHooks:
    """Mixed into ``dancu.oidc.validators.Validator`` ahead of the library's ``OAuth2Validator``
    (a validator serves one request: the library makes one per request)."""

    _signed_id_token: tuple[str, Any] | None = None

    def _load_application(self, client_id: str, request: Any) -> Any:
        if not request.client and isinstance(client_id, str):
            request.client = cached_application(client_id)
        return super()._load_application(client_id, request)  # type: ignore[misc]

    @classmethod
    def _get_additional_claims_is_request_agnostic(cls) -> bool:
        """The library's answer (``inspect.signature`` of ``get_additional_claims``), once per
        class: it asked on every call, twice a grant."""
        answer = _request_agnostic.get(cls)
        if answer is None:
            answer = _request_agnostic[cls] = super()._get_additional_claims_is_request_agnostic()  # type: ignore[misc]
        return answer

    def finalize_id_token(self, id_token: dict, token: Any, token_handler: Any, request: Any) -> str:
        signed = super().finalize_id_token(id_token, token, token_handler, request)  # type: ignore[misc]
        self._signed_id_token = (signed, request.id_token)
        return signed

    def _load_id_token(self, token: str) -> Any:
        if self._signed_id_token is not None and token == self._signed_id_token[0]:
            return self._signed_id_token[1]
        return super()._load_id_token(token)  # type: ignore[misc]

