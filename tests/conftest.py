"""Shared fixtures. Tests use the real database named by DATABASE_URL (SQLite by default)."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.browser import browser  # noqa: F401  (the Chromium fixture of every browser test)


@pytest.fixture(scope="session", autouse=True)
def _require_postgres_when_asked(django_db_setup, django_db_blocker) -> None:
    """Under CI's PostgreSQL pass, fail loudly if the tests did not actually run on it."""
    if os.environ.get("DANCU_REQUIRE_POSTGRES") == "1":
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", "DANCU_REQUIRE_POSTGRES set, but not on PG"


@pytest.fixture(scope="session", autouse=True)
def _flush_may_clear_the_audit_trail():
    """The audit table refuses UPDATE/DELETE/TRUNCATE (dancu.audit.append_only); the flush
    between transactional tests is the one statement let through, for its transaction only."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from dancu.audit.append_only import flushing

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with flushing(self.connection):
            original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections_at_the_end(django_db_setup, django_db_blocker):
    """Browser tests run ORM calls inside Playwright's sync API, whose context gets connections of
    its own (asgiref's Local) that nothing closes; PostgreSQL would refuse to drop the test
    database with them open. They are ended once, after the last test — not after each test,
    where the next test's own idle connection would go with them."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(autouse=True)
def _no_relying_party_names_from_other_tests():
    """Relying parties' names are cached per process (eid.selectors): each test starts without."""
    from dancu.eid.selectors import clear_relying_party_names

    clear_relying_party_names()
    yield
    clear_relying_party_names()


@pytest.fixture(autouse=True)
def _no_cached_oauth_clients_from_other_tests():
    """OAuth clients and their agreements are cached per process (oidc.hooks): each test starts
    without."""
    from dancu.oidc.hooks import clear_cache

    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def geo(db):
    from tests.factories import mini_geo

    return mini_geo()


@pytest.fixture
def catalog(db):
    """The procedure catalog as the migrations seed it. A transactional test's flush empties the
    rows data migrations wrote, so a test that runs after one and needs procedures asks for this."""
    from dancu.publicservices.catalog import sync_catalog
    from dancu.publicservices.models import Procedure

    sync_catalog(Procedure)


@pytest.fixture
def commune_officer(geo):
    from tests.factories import officer_actor

    return officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)


@pytest.fixture
def province_officer(geo):
    from tests.factories import officer_actor

    return officer_actor("ca.thanhhoa", "province_police", geo.thanh_hoa)


@pytest.fixture
def ministry_admin(geo):
    from tests.factories import officer_actor

    return officer_actor("bo.quantri", "ministry_admin", None)


@pytest.fixture
def auditor(geo):
    from tests.factories import officer_actor

    return officer_actor("kiem.tra", "auditor", None)


@pytest.fixture(autouse=True)
def _fresh_unit_cache():
    """Unit primary keys can be reused after a test's rollback (SQLite); the per-process unit
    cache must not carry a previous test's units."""
    from dancu.geo.selectors import unit_by_pk
    from dancu.population.services import id_codes_for_province

    for cache in (unit_by_pk, id_codes_for_province):
        cache.cache_clear()
    yield
    for cache in (unit_by_pk, id_codes_for_province):
        cache.cache_clear()


@pytest.fixture
def otp_without_waits(settings):
    """One-time codes without the resend delay and hourly cap (tests send many codes to one
    phone; the throttling itself is tested with the real values)."""
    settings.DANCU_OTP_RESEND_SECONDS = 0
    settings.DANCU_OTP_MAX_PER_HOUR = 100


@pytest.fixture
def officer_client(client, commune_officer):
    """A test client signed in as the commune police officer of Phường Hạc Thành."""
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=commune_officer.label))
    return client
