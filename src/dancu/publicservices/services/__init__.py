"""Every write of the public services, one module per capability; the public functions are
re-exported here (``from dancu.publicservices import services``)."""

from dancu.publicservices.services.flows import advance, decide_step, resume_due, step_summary
from dancu.publicservices.services.processing import (
    accept,
    approve,
    assign,
    check_may_act,
    hand_over,
    mark_paid,
    paid_at_counter,
    refuse,
    request_supplement,
)
from dancu.publicservices.services.submission import (
    answer_supplement,
    citizen_of,
    clean_data,
    give_feedback,
    mark_inbox_read,
    rate,
    submit,
    withdraw,
)

__all__ = [
    "accept",
    "advance",
    "answer_supplement",
    "approve",
    "assign",
    "check_may_act",
    "citizen_of",
    "clean_data",
    "decide_step",
    "give_feedback",
    "hand_over",
    "mark_inbox_read",
    "mark_paid",
    "paid_at_counter",
    "rate",
    "refuse",
    "request_supplement",
    "resume_due",
    "step_summary",
    "submit",
    "withdraw",
]
