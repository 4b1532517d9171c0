"""WSGI entry point used by ``dancu serve`` (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
application = get_wsgi_application()
