"""Settings, read from the environment once, here.

Development (the default) needs nothing set: an SQLite file under ``DANCU_DATA_DIR``.
Production (``DANCU_ENV=production``) refuses to start without a real secret key,
allowed hosts and a ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from dancu.core.net import parse_networks

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
    "ninja",  # its static files: the API docs page's Swagger UI is served here, not from a CDN
    "dancu.core",
    "dancu.geo",
    "dancu.accounts",
    "dancu.audit",
    "dancu.population",
    "dancu.residence",
    "dancu.quality",
    "dancu.eid",
    "oauth2_provider",
    "dancu.oidc",
    "dancu.documents",
    "dancu.payments",
    "dancu.exchange",
    "dancu.agencies",
    "dancu.publicservices",
    "dancu.kpi",
    "dancu.workgroups",
    "django_tasks",
    "django_tasks_db",
    "dancu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dancu.core.middleware.RefuseNulMiddleware",  # before anything reads the request
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
                "dancu.nav.nav",
                "dancu.core.context_processors.language_menu",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'dancu.sqlite3'}"
    db: dict[str, Any] = dict(dj_database_url.parse(
        url, conn_max_age=int(os.environ.get("DANCU_DB_CONN_MAX_AGE", "60"))))
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
        if db["ENGINE"] == "django.db.backends.postgresql":
            db["ENGINE"] = "dancu.core.postgresql"  # Django's, with a health check without a round trip
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
    "dancu.oidc.hashers.ClientSecretHasher",  # OAuth client secrets only (see that module)
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Officers: password + TOTP (dancu.accounts.backends); everyone else: Django's model backend.
AUTHENTICATION_BACKENDS = ["dancu.accounts.backends.SecondFactorBackend",
                           "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "population:search"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "vi"
# Each language in its own name (the menu shows "English" to a Vietnamese reader, not "Tiếng Anh").
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
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

SESSION_ENGINE = "dancu.core.session_store"  # Django's db sessions, one write per login
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
# Reverse proxies in front of dancu serve (addresses or networks, comma-separated): behind them
# the client's address comes from X-Forwarded-For (dancu.core.net); without, the header is ignored.
DANCU_TRUSTED_PROXIES = os.environ.get("DANCU_TRUSTED_PROXIES", "")
try:
    parse_networks(DANCU_TRUSTED_PROXIES)  # a bad entry stops the start, named
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
# Officer console sessions (OWASP ASVS 3.3): signed out after this many idle minutes, and at the
# latest this many hours after the sign-in, whatever the activity.
DANCU_OFFICER_IDLE_MINUTES = float(os.environ.get("DANCU_OFFICER_IDLE_MINUTES", "30"))
DANCU_OFFICER_SESSION_HOURS = float(os.environ.get("DANCU_OFFICER_SESSION_HOURS", "8"))
# The Django admin (/admin/): off unless DANCU_ADMIN=1, and read-only even then (every change of
# accounts and rights goes through the officer screens' audited services).
DANCU_ADMIN = os.environ.get("DANCU_ADMIN", "0") == "1"
# Seconds a resolved API bearer token is cached per process (revocation takes effect within it).
DANCU_API_TOKEN_CACHE_SECONDS = float(os.environ.get("DANCU_API_TOKEN_CACHE_SECONDS", "30"))

# ---- Electronic identification (dancu.eid) ----
# Password hashing: Argon2id, OWASP's first setting (19 MiB, 2 passes, 1 lane); raise only.
DANCU_EID_ARGON2_MEMORY_KIB = int(os.environ.get("DANCU_EID_ARGON2_MEMORY_KIB", str(19 * 1024)))
DANCU_EID_ARGON2_TIME_COST = int(os.environ.get("DANCU_EID_ARGON2_TIME_COST", "2"))
if DANCU_EID_ARGON2_MEMORY_KIB < 19 * 1024 or DANCU_EID_ARGON2_TIME_COST < 2:
    raise ImproperlyConfigured("Argon2id below OWASP's minimum (19 MiB, t=2) is not allowed")
# Threads per process that compute the hashes (dancu.eid.passwords): one suits dancu serve's
# one worker process per CPU; more only if a process has several CPUs to itself.
DANCU_EID_HASH_THREADS = int(os.environ.get("DANCU_EID_HASH_THREADS", "1"))
# Minutes an account stays locked after five wrong passwords in a row.
DANCU_EID_LOCK_MINUTES = float(os.environ.get("DANCU_EID_LOCK_MINUTES", "30"))
# Key for encrypting TOTP seeds and digesting one-time codes (defaults to SECRET_KEY).
DANCU_EID_SECRET_KEY = os.environ.get("DANCU_EID_SECRET_KEY", "")
# Key rotation: the previous key(s), comma-separated, still decrypt until `dancu eid rekey` has
# re-encrypted every stored seed with the current one.
DANCU_EID_PREVIOUS_SECRET_KEYS = [k for k in os.environ.get("DANCU_EID_PREVIOUS_SECRET_KEYS", "").split(",")
                                  if k.strip()]
DANCU_OTP_TTL_SECONDS = float(os.environ.get("DANCU_OTP_TTL_SECONDS", "300"))
DANCU_OTP_RESEND_SECONDS = float(os.environ.get("DANCU_OTP_RESEND_SECONDS", "60"))
DANCU_OTP_MAX_PER_HOUR = int(os.environ.get("DANCU_OTP_MAX_PER_HOUR", "5"))
# SMS gateway: "outbox" (development: stored, never sent) or "http" (production gateway).
DANCU_SMS_BACKEND = os.environ.get("DANCU_SMS_BACKEND", "outbox")
DANCU_SMS_HTTP_URL = os.environ.get("DANCU_SMS_HTTP_URL", "")
DANCU_SMS_HTTP_TOKEN = os.environ.get("DANCU_SMS_HTTP_TOKEN", "")
DANCU_SMS_HTTP_TIMEOUT = float(os.environ.get("DANCU_SMS_HTTP_TIMEOUT", "10"))
if PRODUCTION and DANCU_SMS_BACKEND == "http" and not DANCU_SMS_HTTP_URL:
    raise ImproperlyConfigured("DANCU_SMS_BACKEND=http needs DANCU_SMS_HTTP_URL")

# ---- The authentication service: OpenID Connect provider (dancu.oidc, django-oauth-toolkit) ----
from dancu.oidc import keys as _oidc_keys  # noqa: E402  (no Django models imported)

DANCU_OIDC_KEY_DIR = Path(os.environ.get("DANCU_OIDC_KEY_DIR", DATA_DIR / "oidc-keys")).resolve()
# Development makes a first signing key on start; production must be given one
# (`dancu oidc keys rotate` once, on the machine or volume that holds DANCU_OIDC_KEY_DIR).
_OIDC_ACTIVE_KEY, _OIDC_INACTIVE_KEYS = _oidc_keys.load(DANCU_OIDC_KEY_DIR, create=not PRODUCTION)
if PRODUCTION and not _OIDC_ACTIVE_KEY and os.environ.get("DANCU_OIDC_ALLOW_NO_KEY") != "1":
    raise ImproperlyConfigured(
        f"No OpenID Connect signing key in {DANCU_OIDC_KEY_DIR}: run `dancu oidc keys rotate`")
# The secret salt of pairwise subject identifiers (OpenID Connect Core 8.1, dancu.oidc.claims.
# subject_for). Changing it changes every citizen's ``sub`` at every relying party: set it once.
_DEV_OIDC_SUBJECT_SALT = "dev-only-insecure-subject-salt-do-not-use-in-production"
DANCU_OIDC_SUBJECT_SALT = os.environ.get("DANCU_OIDC_SUBJECT_SALT",
                                         "" if PRODUCTION else _DEV_OIDC_SUBJECT_SALT)
if PRODUCTION and (DANCU_OIDC_SUBJECT_SALT == _DEV_OIDC_SUBJECT_SALT or len(DANCU_OIDC_SUBJECT_SALT) < 32):
    raise ImproperlyConfigured("DANCU_OIDC_SUBJECT_SALT must be a random string of 32+ characters")
DANCU_OIDC_SCOPES = {
    "openid": _("Đăng nhập bằng định danh điện tử"),
    "identity": _("Số định danh cá nhân và mức độ tài khoản định danh điện tử"),
    "profile": _("Họ và tên, ngày sinh, giới tính"),
    "address": _("Nơi ở hiện tại"),
    "family": _("Cha, mẹ, vợ/chồng (số định danh và họ tên)"),
    "phone": _("Số điện thoại đã xác thực"),
    "email": _("Thư điện tử"),
    "ekyc": _("Đối chiếu thông tin công dân (eKYC) — dành cho hệ thống của tổ chức"),
    "eid.self": _("Ứng dụng định danh điện tử: xem và quản lý tài khoản của chính mình"),
    "introspection": _("Tra cứu trạng thái mã truy cập của các bên khác (máy chủ tài nguyên)"),
    "publicservices": _("Dịch vụ công trực tuyến: nộp và theo dõi hồ sơ thủ tục của mình"),  # issue #12
}
# The library's own models (not swapped); named so that migrations can resolve them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "oauth2_provider.DeviceGrant"
OAUTH2_PROVIDER: dict[str, Any] = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _OIDC_ACTIVE_KEY,
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": _OIDC_INACTIVE_KEYS,
    "OIDC_ISS_ENDPOINT": os.environ.get("DANCU_OIDC_ISSUER", ""),  # empty: from the request's host
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
    "OAUTH2_VALIDATOR_CLASS": "dancu.oidc.validators.Validator",
    "OAUTH2_SERVER_CLASS": "dancu.oidc.validators.Server",
    "SCOPES": DANCU_OIDC_SCOPES,
    "DEFAULT_SCOPES": ["openid"],
    "PKCE_REQUIRED": True,  # every client, S256 only (RFC 9700)
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("DANCU_OIDC_ACCESS_TOKEN_SECONDS", "900")),
    "ID_TOKEN_EXPIRE_SECONDS": 900,
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(os.environ.get("DANCU_OIDC_REFRESH_TOKEN_SECONDS",
                                                       str(30 * 86400))),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a reused refresh token revokes its whole family
    "REQUEST_APPROVAL_PROMPT": "force",  # consent is decided by dancu.oidc (stored consents)
    "CLIENT_SECRET_HASHER": "client_sha256",
    "ACCESS_TOKEN_GENERATOR": "dancu.oidc.tokens.generate",  # 256 bits in one call (see that module)
    "REFRESH_TOKEN_GENERATOR": "dancu.oidc.tokens.generate",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["https", "http"],
    "ALLOWED_SCHEMES": ["https"] if PRODUCTION else ["https", "http"],
}

# Background work (django-tasks, the tasks API of Django 6 for Django 5.2): the database backend
# keeps the queue in the project's own database, so a task enqueued inside a transaction exists
# exactly when that transaction commits, and SQLite needs nothing more. `dancu worker` runs it.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DANCU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "bulk": long work (imports, batches) that a `dancu worker --queue bulk` takes apart
        "QUEUES": ["default", "bulk"],
    },
}
# A task RUNNING under a worker not seen for this long is ready again (dancu.core.worker; the
# heartbeat refreshes every third of it). Longer tasks are fine: the live worker keeps beating.
DANCU_WORKER_LEASE_SECONDS = float(os.environ.get("DANCU_WORKER_LEASE_SECONDS", "30"))

# ---- Documents: attachments, signed e-results and their verification (dancu.documents) ----
# The site's public address: the QR code on a result points at DANCU_PUBLIC_URL/verify/<code>/
# (production issues no document without it).
DANCU_PUBLIC_URL = os.environ.get("DANCU_PUBLIC_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
DANCU_UPLOAD_MAX_BYTES = int(os.environ.get("DANCU_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
# Development CA (made on first use; never in production) — see docs/documents.md.
DANCU_DOCUMENTS_PKI_DIR = Path(os.environ.get("DANCU_DOCUMENTS_PKI_DIR", DATA_DIR / "pki")).resolve()
# Production: the issuing agency's key and certificate chain (PKCS#12 from the national CA) and
# the roots verification trusts (PEM).
DANCU_DOCUMENTS_SIGNER_PKCS12 = os.environ.get("DANCU_DOCUMENTS_SIGNER_PKCS12", "")
DANCU_DOCUMENTS_SIGNER_PASSPHRASE = os.environ.get("DANCU_DOCUMENTS_SIGNER_PASSPHRASE", "")
DANCU_DOCUMENTS_TRUST_ROOTS = os.environ.get("DANCU_DOCUMENTS_TRUST_ROOTS", "")
# ---- Online payment (dancu.payments; docs/payments.md) ----
# The payment gateway (VNPay-shaped): its base URL, dancu's merchant (terminal) code and the
# shared HMAC-SHA512 secret. The default is the sandbox gateway (`dancu gateway serve`).
DANCU_PAYMENT_GATEWAY_URL = os.environ.get("DANCU_PAYMENT_GATEWAY_URL", "http://127.0.0.1:8090").rstrip("/")
DANCU_PAYMENT_TMN_CODE = os.environ.get("DANCU_PAYMENT_TMN_CODE", "DANCU001")
_DEV_PAYMENT_SECRET = "dev-only-insecure-payment-secret-do-not-use"  # noqa: S105
DANCU_PAYMENT_SECRET = os.environ.get("DANCU_PAYMENT_SECRET", "" if PRODUCTION else _DEV_PAYMENT_SECRET)
if PRODUCTION and (DANCU_PAYMENT_SECRET == _DEV_PAYMENT_SECRET or len(DANCU_PAYMENT_SECRET) < 32):
    raise ImproperlyConfigured("DANCU_PAYMENT_SECRET must be the gateway's secret, 32+ characters")
# dancu's return URL as the gateway should send the browser back (empty: the origin of the
# return_url the caller gives start_payment + /payments/return).
DANCU_PAYMENT_RETURN_URL = os.environ.get("DANCU_PAYMENT_RETURN_URL", "")
# A payment not completed at the gateway within this many minutes expires (vnp_ExpireDate).
DANCU_PAYMENT_EXPIRE_MINUTES = int(os.environ.get("DANCU_PAYMENT_EXPIRE_MINUTES", "15"))
# Reconciliation asks the gateway about payments pending longer than this (minutes).
DANCU_PAYMENT_RECONCILE_AFTER_MINUTES = int(os.environ.get("DANCU_PAYMENT_RECONCILE_AFTER_MINUTES", "10"))
DANCU_PAYMENT_HTTP_TIMEOUT = float(os.environ.get("DANCU_PAYMENT_HTTP_TIMEOUT", "10"))

# ---- Exchange with other agencies' systems (dancu.exchange; docs/exchange.md) ----
from dancu.exchange import protocol as _exchange_protocol  # noqa: E402  (no Django models imported)

# dancu's signing key (a P-256 JWK file). Development makes one on first start, with its public
# half beside it (<name>.public.jwk: what the agencies are given); production must be given one.
DANCU_EXCHANGE_KEY_FILE = Path(os.environ.get("DANCU_EXCHANGE_KEY_FILE",
                                              DATA_DIR / "exchange" / "dancu.jwk")).resolve()
if PRODUCTION:
    if not os.environ.get("DANCU_EXCHANGE_KEY_FILE") or not DANCU_EXCHANGE_KEY_FILE.is_file():
        raise ImproperlyConfigured(
            "DANCU_EXCHANGE_KEY_FILE must name dancu's exchange signing key (an existing P-256 JWK "
            "file; see docs/exchange.md)")
    _exchange_protocol.load_key(DANCU_EXCHANGE_KEY_FILE)  # unreadable or not P-256: stop now
else:
    _exchange_protocol.load_or_create_key(DANCU_EXCHANGE_KEY_FILE,
                                          _exchange_protocol.public_path_for(DANCU_EXCHANGE_KEY_FILE))
# Seconds dancu waits for an agency's answer (then the step is retried with the same message).
DANCU_EXCHANGE_HTTP_TIMEOUT = float(os.environ.get("DANCU_EXCHANGE_HTTP_TIMEOUT", "10"))
# The social-insurance agency (Vietnam Social Security, "VN:GOV:bhxh"): its exchange URL and its
# public key. The default is the stand-in (`dancu agency serve social-insurance`), which writes its
# public key there when it first starts with the same DANCU_DATA_DIR.
DANCU_AGENCY_SOCIAL_INSURANCE_URL = os.environ.get("DANCU_AGENCY_SOCIAL_INSURANCE_URL",
                                                   "http://127.0.0.1:8091").rstrip("/")
DANCU_AGENCY_SOCIAL_INSURANCE_KEY = Path(os.environ.get(
    "DANCU_AGENCY_SOCIAL_INSURANCE_KEY", DATA_DIR / "agencies" / "social-insurance" / "public.jwk")).resolve()
if PRODUCTION and not DANCU_AGENCY_SOCIAL_INSURANCE_KEY.is_file():
    raise ImproperlyConfigured("DANCU_AGENCY_SOCIAL_INSURANCE_KEY must name the agency's public key (JWK)")
