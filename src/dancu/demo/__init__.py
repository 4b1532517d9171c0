"""The demo: from nothing to a running province on a laptop (``dancu demo``).

Its own app because it reaches into every context (units, population, officers, e-ID) through
their services, which ``core`` — the base every context imports — must not do.
"""
