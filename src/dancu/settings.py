"""Settings, read from the environment once, here.

Development (the default) needs nothing set: an SQLite file under ``DANCU_DATA_DIR``.
Production (``DANCU_ENV=production``) refuses to start without a real secret key,
allowed hosts and a ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
ENV = os.environ.get("DANCU_ENV", "development").strip().lower()
PRODUCTION = ENV == "production"
DATA_DIR = Path(os.environ.get("DANCU_DATA_DIR", Path.cwd() / "var")).resolve()

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DANCU_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
DEBUG = os.environ.get("DANCU_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DANCU_ALLOWED_HOSTS", "" if PRODUCTION else "*").split(",")
    if h.strip()
]

if PRODUCTION:
    _missing = [
        name
        for name, value in (
            ("DANCU_SECRET_KEY", SECRET_KEY),
            ("DANCU_ALLOWED_HOSTS", ALLOWED_HOSTS),
            ("DATABASE_URL", os.environ.get("DATABASE_URL")),
        )
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(
            "Production mode (DANCU_ENV=production) needs: " + ", ".join(_missing)
        )
    if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DANCU_SECRET_KEY must be a random string of 32+ characters")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "dancu.core",
    "dancu.geo",
    "dancu.accounts",
    "dancu.audit",
    "dancu.population",
    "dancu.residence",
    "dancu.quality",
    "dancu.eid",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dancu.core.middleware.LanguageChoiceMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dancu.urls"
WSGI_APPLICATION = "dancu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dancu.core.context_processors.officer",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'dancu.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DANCU_DB_CONN_MAX_AGE", "60")))
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; IMMEDIATE makes writers queue
        # instead of failing with "database is locked" on lock upgrade.
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        db["CONN_MAX_AGE"] = 0
    else:
        db.setdefault("OPTIONS", {})
        db["CONN_HEALTH_CHECKS"] = True
    test_name = os.environ.get("DANCU_TEST_DB_NAME") or None
    if test_name is None and db["ENGINE"] == "django.db.backends.sqlite3":
        # A file, not Django's shared in-memory database: WAL and real locking behave as in
        # production, so concurrent-writer tests mean something on SQLite too.
        test_name = str(DATA_DIR / "test_dancu.sqlite3")
    db["TEST"] = {"NAME": test_name}
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "population:search"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns (and tests fail) without it
MEDIA_ROOT = DATA_DIR / "media"  # portraits of e-ID applications; never served publicly
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DANCU_LOG_LEVEL", "WARNING")},
}

# Search results per page in the console and the API.
DANCU_PAGE_SIZE = int(os.environ.get("DANCU_PAGE_SIZE", "25"))
# Seconds a resolved API bearer token is cached per process (revocation takes effect within it).
DANCU_API_TOKEN_CACHE_SECONDS = float(os.environ.get("DANCU_API_TOKEN_CACHE_SECONDS", "30"))

# ---- Electronic identification (dancu.eid) ----
# Password hashing: Argon2id, OWASP's first setting (19 MiB, 2 passes, 1 lane); raise only.
DANCU_EID_ARGON2_MEMORY_KIB = int(os.environ.get("DANCU_EID_ARGON2_MEMORY_KIB", str(19 * 1024)))
DANCU_EID_ARGON2_TIME_COST = int(os.environ.get("DANCU_EID_ARGON2_TIME_COST", "2"))
if DANCU_EID_ARGON2_MEMORY_KIB < 19 * 1024 or DANCU_EID_ARGON2_TIME_COST < 2:
    raise ImproperlyConfigured("Argon2id below OWASP's minimum (19 MiB, t=2) is not allowed")
# Minutes an account stays locked after five wrong passwords in a row.
DANCU_EID_LOCK_MINUTES = float(os.environ.get("DANCU_EID_LOCK_MINUTES", "30"))
# Key for encrypting TOTP seeds and digesting one-time codes (defaults to SECRET_KEY).
DANCU_EID_SECRET_KEY = os.environ.get("DANCU_EID_SECRET_KEY", "")
DANCU_OTP_TTL_SECONDS = float(os.environ.get("DANCU_OTP_TTL_SECONDS", "300"))
DANCU_OTP_RESEND_SECONDS = float(os.environ.get("DANCU_OTP_RESEND_SECONDS", "60"))
DANCU_OTP_MAX_PER_HOUR = int(os.environ.get("DANCU_OTP_MAX_PER_HOUR", "5"))
# SMS gateway: "outbox" (development: stored, never sent) or "http" (production gateway).
DANCU_SMS_BACKEND = os.environ.get("DANCU_SMS_BACKEND", "outbox")
DANCU_SMS_HTTP_URL = os.environ.get("DANCU_SMS_HTTP_URL", "")
DANCU_SMS_HTTP_TOKEN = os.environ.get("DANCU_SMS_HTTP_TOKEN", "")
if PRODUCTION and DANCU_SMS_BACKEND == "http" and not DANCU_SMS_HTTP_URL:
    raise ImproperlyConfigured("DANCU_SMS_BACKEND=http needs DANCU_SMS_HTTP_URL")
