"""Fixtures of the exchange tests: the social-insurance stand-in as a real process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dancu.accounts.actor import Actor
from tests.exchange.helpers import RunningAgency, point_dancu_at, running_agency


@pytest.fixture(scope="session")
def social_insurance_process(tmp_path_factory) -> Iterator[RunningAgency]:
    """One stand-in for the session (its own data directory)."""
    with running_agency(tmp_path_factory.mktemp("social-insurance")) as agency:
        yield agency


@pytest.fixture
def social_insurance(social_insurance_process, settings) -> RunningAgency:
    """dancu pointed at the session's stand-in."""
    point_dancu_at(social_insurance_process, settings)
    return social_insurance_process


@pytest.fixture
def flow_actor() -> Actor:
    return Actor(label="publicservices.flow", role="system", source="system", source_ref="test")
