"""WSGI entry point used by ``dancu serve`` (granian).

``application`` is Django's WSGI handler with the citizen look-up fast lane
(``dancu.api_fastlane``: the whole middleware chain runs; URL resolution and ninja are skipped
for that one route; ``DANCU_API_FASTLANE=0`` turns it off), with the scheme a trusted reverse proxy
forwards (``dancu.core.net.proxy_scheme``).
"""

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application does

from dancu.api_fastlane import application as handler  # noqa: E402
from dancu.core.net import proxy_scheme  # noqa: E402

application = proxy_scheme(handler())

from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 (the URL conf and the views it imports, loaded now)

# Everything loaded at start-up (modules, settings, URL patterns, translations) lives as long as
# the worker: moved out of the cyclic collector's reach, its full collections stop walking it.
# A Django login's request makes enough cycles for a full collection every few hundred requests;
# in one process this cut the collector's time from 0.37 to 0.03 ms a login (docs/benchmarks.md).
gc.freeze()
