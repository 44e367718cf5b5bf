"""Settings from environment variables, with safe defaults for the embedded mode.

Embedded mode (the default) keeps everything under ``var/``: the SQLite database,
a secret key and encryption keys generated once. Production mode
(``NAVBAT_MODE=production``) refuses to start without its secrets.
"""

import contextlib
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from navbat.kit.varfiles import PRIVATE_UMASK, make_private, private_dir

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("NAVBAT_VAR_DIR", Path.cwd() / "var")).resolve()

NAVBAT_MODE = os.environ.get("NAVBAT_MODE", "embedded")
if NAVBAT_MODE not in ("embedded", "production"):
    raise ImproperlyConfigured("NAVBAT_MODE must be 'embedded' or 'production'")
EMBEDDED = NAVBAT_MODE == "embedded"
if EMBEDDED:
    # What navbat writes under var/ (the SQLite database, the keys) is its user's alone.
    os.umask(PRIVATE_UMASK)
    make_private(VAR_DIR)


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _kept_secret(name: str, filename: str, make) -> str:
    """An environment value, or (embedded mode only) one generated once and kept in var/."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if not EMBEDDED:
        raise ImproperlyConfigured(f"{name} must be set in production mode")
    private_dir(VAR_DIR)
    path = VAR_DIR / filename
    if not path.exists():
        # Write aside, then link into place: two processes starting together on a fresh var/
        # both end up reading the one complete file, never a half-written or empty one.
        fd, temporary = tempfile.mkstemp(dir=VAR_DIR, prefix=f".{filename}.")
        with os.fdopen(fd, "w") as handle:
            handle.write(make())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    make_private(path)
    return path.read_text().strip()


SECRET_KEY = _kept_secret("NAVBAT_SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Comma-separated Fernet keys, newest first: the first encrypts, all decrypt (rotation).
NAVBAT_ENCRYPTION_KEYS = [
    key.strip()
    for key in _kept_secret(
        "NAVBAT_ENCRYPTION_KEYS", "encryption_keys", lambda: Fernet.generate_key().decode()
    ).split(",")
    if key.strip()
]

DEBUG = _env_bool("NAVBAT_DEBUG", False)
NAVBAT_PUBLIC_URL = os.environ.get("NAVBAT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
NAVBAT_SANDBOX = _env_bool("NAVBAT_SANDBOX", EMBEDDED)
# Where the Uzum Bank app opens a merchant's service (open-service links and their QR).
NAVBAT_UZUM_OPEN_SERVICE_URL = os.environ.get(
    "NAVBAT_UZUM_OPEN_SERVICE_URL", "https://www.uzumbank.uz/open-service"
)

ALLOWED_HOSTS = [
    host.strip() for host in os.environ.get("NAVBAT_ALLOWED_HOSTS", "").split(",") if host.strip()
] or (["*"] if EMBEDDED else [])
CSRF_TRUSTED_ORIGINS = [NAVBAT_PUBLIC_URL]
# How many reverse proxies we run in front of navbat (each appends to X-Forwarded-For);
# the client address is read from the last of their entries (navbat.kit.net.client_ip).
NAVBAT_TRUSTED_PROXIES = int(os.environ.get("NAVBAT_TRUSTED_PROXIES", "0"))
# Bank callbacks accepted per minute (navbat.uzum.callbacks), and how many days stored
# callbacks and finished jobs are kept (navbat.payments.retention).
NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = int(os.environ.get("NAVBAT_CALLBACK_LIMIT_PER_ADDRESS", "300"))
NAVBAT_CALLBACK_LIMIT_PER_CONNECTION = int(
    os.environ.get("NAVBAT_CALLBACK_LIMIT_PER_CONNECTION", "120")
)
NAVBAT_CALLBACK_LIMIT_PER_ORDER = int(os.environ.get("NAVBAT_CALLBACK_LIMIT_PER_ORDER", "300"))
NAVBAT_RETENTION_DAYS = int(os.environ.get("NAVBAT_RETENTION_DAYS", "30"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "navbat.kit",
    "navbat.accounts",
    "navbat.salons",
    "navbat.finance",
    "navbat.payments",
    "navbat.booking",
    "navbat.uzum",
    "navbat.api",
    "navbat.uzum_sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files are answered here, before sessions, the database or the body read.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Bodies are read (size limit, deadline) before any view opens its transaction.
    "navbat.kit.middleware.RequestBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "navbat.salons.middleware.BusinessMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "navbat.urls"
WSGI_APPLICATION = "navbat.wsgi.application"

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
                "navbat.salons.context_processors.business",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("NAVBAT_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'navbat.sqlite3'}"
if DATABASE_URL.startswith("sqlite:///") and ":memory:" not in DATABASE_URL:
    Path(DATABASE_URL.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
# Connections stay open between requests (each server thread keeps its own): opening one
# costs about 10 ms on PostgreSQL, more than most of navbat's requests.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("NAVBAT_DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two requests can
    # never both read "slot is free" and then both write; WAL lets readers go on.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "booking:journal"
LOGOUT_REDIRECT_URL = "accounts:login"
# Login throttling (django-axes; navbat/accounts/throttle.py). An IPv6 client counts as its
# /64. Failures count per account *and* client address together, so an attacker only ever
# slows their own guesses, never the salon's logins from its own address. From the limit on,
# each failure doubles the wait (one minute, two, four, … at most an hour); one address has
# a much higher ceiling across all accounts (credential stuffing). Failures are forgotten a
# day after the last one.
AUTHENTICATION_BACKENDS = [
    "navbat.accounts.throttle.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "navbat.accounts.throttle.GrowingDelayHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("NAVBAT_LOGIN_FAILURES_PER_ACCOUNT", "5"))
NAVBAT_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("NAVBAT_LOGIN_FAILURES_PER_ADDRESS", "100"))
# Across all addresses (a botnet): from this many failures of one account in a day, every
# attempt at it waits the growing way, except from the browsers that logged in to it before
# (a signed, HttpOnly device cookie set at login); those also pass their address's ceiling.
NAVBAT_LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE = int(
    os.environ.get("NAVBAT_LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE", "20")
)
NAVBAT_LOGIN_DEVICE_COOKIE = "navbat_device"
NAVBAT_LOGIN_DEVICE_COOKIE_AGE = timedelta(days=365)
NAVBAT_LOGIN_FIRST_DELAY = timedelta(minutes=1)
NAVBAT_LOGIN_LONGEST_DELAY = timedelta(hours=1)
AXES_COOLOFF_TIME = timedelta(hours=24)
# The handler decides alone when to refuse; a refused attempt is not counted (no one waits
# longer for having knocked), and a success forgets that account's failures at that address.
AXES_LOCK_OUT_AT_FAILURE = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "navbat.accounts.throttle.client_address"
AXES_USERNAME_CALLABLE = "navbat.accounts.throttle.attempted_username"
AXES_LOCKOUT_CALLABLE = "navbat.accounts.throttle.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "email", "ip_address", "csrfmiddlewaretoken"]
# Successful logins are not logged to the database (that table would only grow).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Password reset: the link works once, for an hour. One e-mail goes to an address typed at
# most once per interval (no one floods a mailbox, and a stranger asking often delays the
# owner's link by that interval at most); one client address may ask so many times an hour.
PASSWORD_RESET_TIMEOUT = 3600
NAVBAT_PASSWORD_RESET_EMAIL_INTERVAL = timedelta(
    seconds=int(os.environ.get("NAVBAT_PASSWORD_RESET_EMAIL_INTERVAL_SECONDS", "300"))
)
NAVBAT_PASSWORD_RESETS_PER_ADDRESS = 10

# E-mail: files under var/mail in embedded mode, SMTP from the environment in production.
DEFAULT_FROM_EMAIL = os.environ.get(
    "NAVBAT_EMAIL_FROM", f"navbat <no-reply@{urlsplit(NAVBAT_PUBLIC_URL).hostname or 'localhost'}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
if EMBEDDED:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ.get("NAVBAT_EMAIL_HOST", "localhost")
    # A mail server on this machine may speak plain SMTP; any other is reached over TLS.
    EMAIL_USE_TLS = _env_bool(
        "NAVBAT_EMAIL_USE_TLS", EMAIL_HOST not in ("localhost", "127.0.0.1", "::1")
    )
    EMAIL_PORT = int(os.environ.get("NAVBAT_EMAIL_PORT", "587" if EMAIL_USE_TLS else "25"))
    EMAIL_HOST_USER = os.environ.get("NAVBAT_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("NAVBAT_EMAIL_PASSWORD", "")

LANGUAGE_CODE = "uz"
LANGUAGES = [("uz", _("O'zbekcha")), ("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Tashkent"
NAVBAT_DEFAULT_TIMEZONE = "Asia/Tashkent"

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("NAVBAT_STATIC_ROOT", VAR_DIR / "static")).resolve()
STATICFILES_DIRS = [BASE_DIR / "static"]
# `navbat collectstatic` (done by `navbat run`) writes hashed, compressed copies; WhiteNoise
# serves them with a year's caching, since a changed file gets a new name.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one

# The web server (navbat.server, waitress): threads per process, processes for
# `navbat serve`, and the limits every request meets before a view runs.
NAVBAT_WEB_THREADS = int(os.environ.get("NAVBAT_WEB_THREADS", "8"))
NAVBAT_WEB_WORKERS = int(os.environ.get("NAVBAT_WEB_WORKERS", "1"))
NAVBAT_MAX_REQUEST_BYTES = int(os.environ.get("NAVBAT_MAX_REQUEST_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = NAVBAT_MAX_REQUEST_BYTES
NAVBAT_HEADER_TIMEOUT = float(os.environ.get("NAVBAT_HEADER_TIMEOUT", "10"))
NAVBAT_BODY_TIMEOUT = float(os.environ.get("NAVBAT_BODY_TIMEOUT", "30"))

# --- Security: production refuses plain http, and every response carries its headers ---------
# (README, "Production mode"). Embedded mode serves http on this computer or a local network.
NAVBAT_ALLOW_HTTP = _env_bool("NAVBAT_ALLOW_HTTP", False)  # production on a private network only
_public = urlsplit(NAVBAT_PUBLIC_URL)
if not EMBEDDED:
    if not os.environ.get("NAVBAT_PUBLIC_URL", "").strip():
        raise ImproperlyConfigured("NAVBAT_PUBLIC_URL must be set in production mode")
    if not _public.hostname or not (
        _public.scheme == "https" or (_public.scheme == "http" and NAVBAT_ALLOW_HTTP)
    ):
        raise ImproperlyConfigured(
            "NAVBAT_PUBLIC_URL must be an https:// address in production mode "
            "(NAVBAT_ALLOW_HTTP=1 allows http on a private network only)"
        )
    if not ALLOWED_HOSTS:
        ALLOWED_HOSTS = [_public.hostname]
_HTTPS = not EMBEDDED and _public.scheme == "https"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = _HTTPS
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# A /pay/ token in a Referer would hand the client's bill to whatever site a link leads to.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = _HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
SECURE_HSTS_SECONDS = (
    int(os.environ.get("NAVBAT_HSTS_SECONDS", str(365 * 24 * 3600))) if _HTTPS else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("NAVBAT_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading binds the whole domain in browsers for months: the domain owner's decision, so it
# is off unless asked for, and Django's deploy check that asks for it is silenced meanwhile.
SECURE_HSTS_PRELOAD = _env_bool("NAVBAT_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The scheme a proxy reports is believed only when the operator says proxies are in front
# (anyone can send X-Forwarded-Proto straight to an exposed port).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if NAVBAT_TRUSTED_PROXIES > 0 else None
)

# django-csp: scripts and styles from navbat's own static files only (no inline script, no
# eval; the journal's computed positions come in a <style> carrying the request's nonce).
# navbat.kit.headers adds NAVBAT_PUBLIC_URL's origin to form-action (the sandbox's pages send
# the client back there) and, on the Quick Payment pages, NAVBAT_PAY_FORM_ACTION.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Where the Quick Payment page's "Pay by card" may be redirected: the bank's payment page.
NAVBAT_PAY_FORM_ACTION = [
    source.strip()
    for source in os.environ.get("NAVBAT_PAY_FORM_ACTION", "https:").split()
    if source.strip()
]
# django-ninja's API docs page from its own static files: without the app it loads Swagger UI
# from a CDN with an inline script, which the policy refuses.
INSTALLED_APPS += ["ninja"]
# Right after SecurityMiddleware: responses other middleware answers early get them too.
_after_security = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE[_after_security:_after_security] = [
    "navbat.kit.headers.ContentSecurityPolicyMiddleware",
    "navbat.kit.headers.NoStoreMiddleware",
]

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("NAVBAT_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # waitress warns at every request that waits for a free thread: load, not a fault.
        "waitress.queue": {"level": "ERROR"},
        "navbat.security": {"level": "INFO"},
    },
}

# Every tenant row points at this model (kit knows it only by name, like AUTH_USER_MODEL).
NAVBAT_TENANT_MODEL = "salons.Business"

# The sandbox bank: the waits (seconds) before a callback's 2nd…5th delivery attempts (a
# single number is a base that doubles each time), and the pause between the sandbox Uzum
# Bank app's /status questions after a failed /confirm. Tests set both to 0.
NAVBAT_SANDBOX_CALLBACK_DELAYS = [1, 2, 4, 8]
NAVBAT_SANDBOX_APP_STATUS_PAUSE = 1.0
# Who a logged-in user acts for at the sandbox (navbat.kit.sandbox_tokens): the sandbox
# shows and changes only that owner's terminals and services.
NAVBAT_SANDBOX_OWNER_OF_REQUEST = "navbat.accounts.sandbox.sandbox_owner_of_request"
# Where the sandbox may send callbacks and Merchant API calls besides NAVBAT_PUBLIC_URL:
# comma-separated roots (scheme://host[:port][/path]), e.g. an integrator's own merchant
# server under test. Nothing else is ever called.
NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS", "").split(",")
    if origin.strip()
]

# Background workers (navbat.worker): a heartbeat every few seconds; a worker not heard from
# for STALE seconds is dead and its job goes back to the queue; a job failing on a transient
# database error is tried again after these delays, MAX_ATTEMPTS times in all.
NAVBAT_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("NAVBAT_WORKER_HEARTBEAT_SECONDS", "5"))
NAVBAT_WORKER_STALE_SECONDS = float(os.environ.get("NAVBAT_WORKER_STALE_SECONDS", "30"))
NAVBAT_WORKER_MAX_ATTEMPTS = int(os.environ.get("NAVBAT_WORKER_MAX_ATTEMPTS", "5"))
NAVBAT_WORKER_RETRY_DELAYS = [
    float(seconds)
    for seconds in os.environ.get("NAVBAT_WORKER_RETRY_DELAYS", "1,5,15,60").split(",")
    if seconds.strip()
]
# A job running longer than this is logged by its worker's supervisor and shown by /healthz
# ("job_overrunning"); it is not stopped (a thread cannot be) nor taken by another worker.
NAVBAT_WORKER_JOB_TIMEOUT_SECONDS = float(
    os.environ.get("NAVBAT_WORKER_JOB_TIMEOUT_SECONDS", "600")
)
# PostgreSQL, worker sessions only: a statement past this is cancelled (the job fails), a
# lock wait past this gives up (the job is tried again later); 0 turns a limit off.
NAVBAT_WORKER_STATEMENT_TIMEOUT_SECONDS = float(
    os.environ.get("NAVBAT_WORKER_STATEMENT_TIMEOUT_SECONDS", "60")
)
NAVBAT_WORKER_LOCK_TIMEOUT_SECONDS = float(
    os.environ.get("NAVBAT_WORKER_LOCK_TIMEOUT_SECONDS", "10")
)
# /healthz answers 503 when work is not moving: jobs are due and no worker has beaten for
# WORKER_SILENCE seconds, the oldest due job has waited QUEUE_DELAY seconds, or a job has run
# past NAVBAT_WORKER_JOB_TIMEOUT_SECONDS. Off: the same
# numbers are reported, never a 503 for them (a web node a load balancer must keep).
NAVBAT_HEALTH_REQUIRE_WORKER = _env_bool("NAVBAT_HEALTH_REQUIRE_WORKER", True)
NAVBAT_HEALTH_WORKER_SILENCE_SECONDS = int(
    os.environ.get("NAVBAT_HEALTH_WORKER_SILENCE_SECONDS", "60")
)
NAVBAT_HEALTH_QUEUE_DELAY_SECONDS = int(os.environ.get("NAVBAT_HEALTH_QUEUE_DELAY_SECONDS", "300"))
# Anyone may read /healthz's status, database and problem codes; the ages (heartbeat, queue,
# running job) only callers on this machine or sending "Authorization: Bearer <this token>".
NAVBAT_HEALTH_TOKEN = os.environ.get("NAVBAT_HEALTH_TOKEN", "").strip()
