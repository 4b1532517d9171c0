"""WSGI entry point used by ``dancu serve`` (granian).

``application`` is Django behind the citizen look-up fast lane (``dancu.api_fastlane``;
``DANCU_API_FASTLANE=0`` turns it off), with the scheme a trusted reverse proxy forwards
(``dancu.core.net.proxy_scheme``); ``django_application`` is Django alone.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
django_application = get_wsgi_application()

from dancu.api_fastlane import wrap  # noqa: E402 (needs the settings configured above)
from dancu.core.net import proxy_scheme  # noqa: E402

application = proxy_scheme(wrap(django_application))

from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 (the URL conf and the views it imports, loaded now)

# Everything loaded at start-up (modules, settings, URL patterns, translations) lives as long as
# the worker: moved out of the cyclic collector's reach, its full collections stop walking it.
# A Django login's request makes enough cycles for a full collection every few hundred requests;
# in one process this cut the collector's time from 0.37 to 0.03 ms a login (docs/benchmarks.md).
gc.freeze()
