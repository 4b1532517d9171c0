"""e-ID JSON API for mobile clients (registration, activation, recovery)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["eid"])
