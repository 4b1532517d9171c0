"""Helpers for tests.

``ensure_admin_units()`` loads the full administrative-unit tables (14,149 units, 10,602
conversions) when the database does not hold them yet — a count check otherwise, a few
milliseconds. Loading takes 1–2 s, so load once per module (or session) with the data
committed, and remove them afterwards: other tests build small unit sets by hand
(``tests.factories.mini_geo``) and expect empty tables::

    @pytest.fixture(scope="module")
    def _admin_units_committed(django_db_setup, django_db_blocker):
        with django_db_blocker.unblock():
            ensure_admin_units()
        yield
        with django_db_blocker.unblock():
            clear_admin_units()

    @pytest.fixture
    def admin_units(_admin_units_committed, db):
        ensure_admin_units()   # reloads (in the test's transaction) only after a flush
"""

from __future__ import annotations

from django.db import connection, transaction

from dancu.geo.models import AdminUnit, UnitConversion
from dancu.geo.services import is_loaded, load_admin_units


def ensure_admin_units() -> bool:
    """Load the units unless already loaded; True when it loaded them."""
    if is_loaded():
        return False
    load_admin_units(force=True)
    return True


def clear_admin_units() -> None:
    """Delete every conversion and unit (test teardown). Fails if other rows still point at
    a unit — those belong to the test that made them."""
    qn = connection.ops.quote_name
    units, conversions = qn(AdminUnit._meta.db_table), qn(UnitConversion._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {conversions}")  # noqa: S608
        cursor.execute(f"UPDATE {units} SET parent_id = NULL, province_id = NULL")  # noqa: S608
        cursor.execute(f"DELETE FROM {units}")  # noqa: S608
