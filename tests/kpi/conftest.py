"""The kpi tests reuse the public-services world (a province, officers of each role, residents)."""

from tests.publicservices.conftest import world  # noqa: F401  (fixture)
