"""The client's address, for the audit trail and the login history.

A request's peer (``REMOTE_ADDR``) is the client — unless it is one of this deployment's reverse
proxies (``DANCU_TRUSTED_PROXIES``: addresses or networks). Then the client is the right-most
address of ``X-Forwarded-For`` that is not a trusted proxy: each proxy appends the address it
received the request from, so entries left of the last untrusted one are whatever the client
chose to send, and are never taken. Without trusted proxies the header is ignored.

Likewise the scheme: a trusted proxy that ends TLS says so in ``X-Forwarded-Proto``
(``proxy_scheme``, around the WSGI application), so that Django sees an HTTPS request — CSRF's
origin check, secure cookies, the OpenID Connect issuer and redirect URIs depend on it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str, name: str = "DANCU_TRUSTED_PROXIES") -> tuple[Network, ...]:
    """``"10.0.0.5, 10.1.0.0/16, ::1"`` → networks; a ``ValueError`` naming the bad entry."""
    networks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{name}: {item!r} is not an IP address or network") from None
    return tuple(networks)


@lru_cache(maxsize=4)
def _parsed(value: str) -> tuple[Network, ...]:
    return parse_networks(value)


def _trusted_networks() -> tuple[Network, ...]:
    return _parsed(getattr(settings, "DANCU_TRUSTED_PROXIES", ""))


def _trust(address: str, networks: tuple[Network, ...]) -> bool | None:
    """Whether ``address`` is one of the trusted proxies; None when it is not an IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return any(ip in network for network in networks)


def client_ip(request: Any) -> str | None:
    """The client's address: the peer, or behind trusted proxies the last address they vouch for."""
    peer = request.META.get("REMOTE_ADDR") or None
    networks = _trusted_networks()
    if peer is None or not networks or not _trust(peer, networks):
        return peer
    client = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        trusted = _trust(hop, networks)
        if trusted is None:
            break  # a malformed entry: nothing left of it can be trusted
        client = hop
        if not trusted:
            break
    return client


WsgiApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


def proxy_scheme(app: WsgiApp) -> WsgiApp:
    """``wsgi.url_scheme`` from a trusted proxy's ``X-Forwarded-Proto`` (its last entry: the
    proxy next to us); from any other peer the header is ignored."""

    def application(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        proto = environ.get("HTTP_X_FORWARDED_PROTO")
        if proto:
            networks = _trusted_networks()
            if networks and _trust(environ.get("REMOTE_ADDR") or "", networks):
                scheme = proto.rsplit(",", 1)[-1].strip().lower()
                if scheme in ("http", "https"):
                    environ["wsgi.url_scheme"] = scheme
        return app(environ, start_response)

    return application
