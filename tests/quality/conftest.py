# The population with one planted record per check (``world``, ``clean``), shared by the tests
# of the report and of its tallies.
from tests.quality.test_quality import _fast_settings, clean, world  # noqa: F401
