"""What one dossier event adds to its tally row: the per-event rule the receiver applies
(``services.count_event``). ``selectors.recompute`` states the same rules as grouped SQL over
the raw events; ``selectors.check`` proves the two agree (docs/kpi.md has the table).

Plain functions, no database: the caller passes the dossier's component counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from django.utils import timezone

DECISIONS = ("approved", "refused")
COUNTED_ACTIONS = ("submitted", "accepted", "supplement_requested", "withdrawn", "paid", "rated", *DECISIONS)
SATISFIED_FROM = 4


class EventLike(Protocol):
    at: dt.datetime
    action: str
    actor_user_id: int | None
    rating: int | None  # a ``rated`` event: the rating given, and the one it replaced (None: first)
    rating_before: int | None


def event_day(at: dt.datetime) -> dt.date:
    return timezone.localdate(at)


def deltas(
    dossier: Any, event: EventLike, *, components: int = 0, components_reused: int = 0
) -> dict[str, int]:
    """The counters this event adds (only non-zero ones). ``dossier`` is the row as the
    transition left it; ``components``/``components_reused`` matter for a decision only."""
    action = event.action
    out: dict[str, int] = {}
    if action == "submitted":
        out["submitted"] = 1
    elif action == "accepted":
        out["accepted"] = 1
    elif action == "supplement_requested":
        out["supplement_requests"] = 1
    elif action == "withdrawn":
        out["withdrawn"] = 1
    elif action in DECISIONS:
        out[action] = 1
        on_time = event_day(event.at) <= dossier.due_on
        out["closed_on_time" if on_time else "closed_late"] = 1
        if action == "approved" and dossier.result_document_id is not None:
            out["results_digital"] = 1
        out["components"] = components
        out["components_reused"] = components_reused
    elif action == "paid":
        # Online: the gateway's success (payments' system actor, no user); else an officer
        # recorded a payment at the counter.
        out["paid_online" if event.actor_user_id is None else "paid_at_counter"] = 1
    elif action == "rated" and event.rating is not None:  # the event's fields, never its note
        previous, new = event.rating_before, event.rating
        out["rated"] = 1 if previous is None else 0
        out["rating_sum"] = new - (previous or 0)
        was_satisfied = previous is not None and previous >= SATISFIED_FROM
        out["satisfied"] = int(new >= SATISFIED_FROM) - int(was_satisfied)
    return {k: v for k, v in out.items() if v}
