"""Interconnected dossiers with real concurrent writers (threads, each with its own database
connection; PostgreSQL in CI): the same officer decision sent at once applies once, and several
``advance`` runs of one flow at once (several workers) get one card and one benefit — the
dossier's row lock orders them, the agency answers the step's one message id once."""

from __future__ import annotations

import pytest

from dancu.agencies.social_insurance import add_participant
from dancu.core.errors import Conflict
from dancu.exchange.models import ExchangeMessage
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.publicservices.models import DossierEvent, DossierStep
from dancu.publicservices.services import flows
from tests.parallel import run_parallel
from tests.publicservices.test_flows import statuses, submit_birth, submit_death

pytestmark = pytest.mark.slow
WRITERS = 4


@pytest.fixture
def catalog(transactional_db):
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure

    sync_catalog(Procedure)  # a transactional test's flush removed the migration's rows


def test_the_same_decision_at_once_registers_one_child(catalog, world):
    d = submit_birth(world, name="Đỗ Gia Huy")
    outcomes: list[str] = []

    def decide(i: int) -> None:
        try:
            services.decide_step(world.justice, d.code, "birth_registration", approve=True)
            outcomes.append("done")
        except Conflict as exc:
            outcomes.append(exc.code)

    assert run_parallel(decide, WRITERS) == []
    assert sorted(outcomes) == ["E_STEP_DECIDED"] * (WRITERS - 1) + ["done"]
    assert Citizen.objects.filter(full_name="Đỗ Gia Huy").count() == 1
    assert DossierEvent.objects.filter(dossier=d, action="step_done").count() == 1


def test_concurrent_advances_issue_one_card_and_one_benefit(catalog, world, agency):
    birth = submit_birth(world, name="Đỗ Gia Phúc")
    add_participant(agency.db, world.bob.personal_id, months=60)
    death = submit_death(world)
    services.decide_step(world.justice, birth.code, "birth_registration", approve=True)
    services.decide_step(world.justice, death.code, "death_registration", approve=True)
    before = agency.state()
    counts: list[dict[str, int]] = []

    def advance(i: int) -> None:
        counts.append(flows.advance((birth if i % 2 else death).pk))

    assert run_parallel(advance, WRITERS * 2) == []
    assert statuses(birth)["health_card"] == "done" and statuses(death)["funeral_allowance"] == "done"
    after = agency.state()
    assert after["cards"] == before["cards"] + 1
    assert after["decisions"] == before["decisions"] + 1
    assert sum(c["retried"] for c in counts) == 0
    # One message per step, whatever the number of runs; one step_done event each.
    for key in ("health_card", "funeral_allowance"):
        step = DossierStep.objects.get(key=key, dossier__in=[birth, death])
        assert ExchangeMessage.objects.filter(message_id=step.message_id).count() == 1
        assert DossierEvent.objects.filter(dossier=step.dossier, action="step_done", note=key).count() == 1
