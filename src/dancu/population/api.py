"""Population API (citizen look-up, search, residence history). Filled in by the API work."""

from ninja import Router

router = Router(tags=["population"])
