"""WSGI entry point used by ``dancu serve`` (gunicorn).

``application`` is Django behind the citizen look-up fast lane (``dancu.api_fastlane``;
``DANCU_API_FASTLANE=0`` turns it off); ``django_application`` is Django alone.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
django_application = get_wsgi_application()

from dancu.api_fastlane import wrap  # noqa: E402 (needs the settings configured above)

application = wrap(django_application)
