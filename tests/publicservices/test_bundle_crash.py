"""kill -9 at random moments (design #13 D): birth and death bundles submitted through the API,
the officers' steps decided through the API, while worker processes and the social-insurance
agency are killed with SIGKILL and started again — then every flow has ended with nothing lost
and nothing done twice (the checks: tests/publicservices/bundle_chaos.py ``check``).

Real processes: ``dancu serve``, ``dancu worker`` (one on SQLite, two on PostgreSQL, as the
design asks), ``dancu agency serve social-insurance``, all on the test database. The agency
also loses a share of its answers after committing (the "did it happen?" case)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from django.db import connection

from dancu.publicservices import services
from dancu.publicservices.services.step_effects import AGENCY_STEPS
from tests.parallel import database_url
from tests.payments.helpers import free_port
from tests.publicservices import bundle_chaos as chaos
from tests.publicservices.test_flows import submit_birth

ROOT = Path(__file__).resolve().parents[2]


def _keys(data: Path) -> None:
    """dancu's exchange key and the agency's, made before any process starts (each side reads
    the other's public half)."""
    from dancu.exchange import protocol

    own = data / "exchange" / "dancu.jwk"
    protocol.load_or_create_key(own, protocol.public_path_for(own))
    agency = data / "agencies" / "social-insurance"
    protocol.load_or_create_key(agency / "private.jwk", agency / "public.jwk")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_bundle_ends_once_through_kill_9_of_workers_and_agency(geo, catalog, tmp_path) -> None:
    workers = 2 if connection.vendor == "postgresql" else 1
    data = tmp_path / "data"
    _keys(data)
    agency_port = free_port(18302 if workers == 1 else 18312)
    env = {k: v for k, v in os.environ.items() if k not in ("DANCU_ENV",)}
    env.update(DATABASE_URL=database_url(), DANCU_DATA_DIR=str(data), DANCU_DEBUG="0",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), *(p for p in sys.path if p)]),
               DANCU_WORKER_LEASE_SECONDS="2", DANCU_EXCHANGE_HTTP_TIMEOUT="3",
               DANCU_AGENCY_SOCIAL_INSURANCE_URL=f"http://127.0.0.1:{agency_port}")
    cast = chaos.seed(geo.hac_thanh, parents=3, families=3, members=2, tag=f"t{workers}")
    fleet = chaos.Fleet(env, tmp_path / "logs", server_port=free_port(18301 if workers == 1 else 18311),
                        agency_port=agency_port, workers=workers,
                        agency_args=("--delay-ms", "30", "--lose-answer-rate", "0.2"))
    with chaos.running(fleet):
        outcome = chaos.run_load(fleet, cast, label="kill -9", births=6, deaths=6, seed=13, chaos=True,
                                 refuse_rate=0.1, timeout=420, chaos_pause=(0.5, 2.0), agency_share=0.3,
                                 min_kills=4)
        outcome.report = report = chaos.check(outcome, f"http://127.0.0.1:{agency_port}",
                                              chaos.agency_database(data))
    print("\n" + chaos.table([outcome], workers))
    print({k: report[k] for k in ("dossiers", "steps", "messages", "cards", "decisions", "agency_state")})
    assert report["violations"] == []
    assert report["flows"] == 12 and report["steps_lost"] == 0 and report["duplicates"] == 0
    assert outcome.kills["worker"] + outcome.kills["agency"] >= 3, outcome.kills  # chaos happened
    assert outcome.officers.replays and outcome.officers.replays == outcome.officers.replays_refused
    assert report["cards"] >= 1 and report["decisions"] >= 1  # the agency's steps were reached


@pytest.mark.django_db
def test_a_health_card_retry_sends_the_same_request_after_the_residence_step(world) -> None:
    """Found by the test above on PostgreSQL: the card's request read the residence step's result
    when it was done, so a retry after the police's decision was another request under the same
    message id — refused by the exchange (E_MESSAGE_ID_REUSED), the flow stuck for ever."""
    d = submit_birth(world)
    services.decide_step(world.justice, d.code, "birth_registration", approve=True)

    def body() -> tuple[str, dict]:
        results = {s.key: s.result for s in d.steps.filter(status="done")}
        return AGENCY_STEPS["health_card"].body(d, results)

    first = body()
    services.decide_step(world.police, d.code, "permanent_residence", approve=True)
    assert body() == first
    assert first[1]["full_name"] == "Lê Minh An" and first[1]["address"]
