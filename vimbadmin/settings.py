"""Settings, read from environment variables; `.env.example` documents every one of them.

SQLite in the checkout is the default database so that a newcomer can run the app at once;
`DATABASE_URL` selects PostgreSQL or MySQL/MariaDB (and is required once installed as a package).
"""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# From a checkout, templates/ and static/ are at its top, and the SQLite database, the generated
# secret key and collected static files default to it. An installed wheel carries templates and
# static files inside the package and has no directory of its own to write to, so there
# DATABASE_URL and SECRET_KEY must be set (and STATIC_ROOT for collectstatic).
FROM_CHECKOUT = (BASE_DIR / "manage.py").is_file()
FILES_DIR = BASE_DIR if FROM_CHECKOUT else Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    """Return an environment variable, or the default when unset or empty."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool = False) -> bool:
    """Return a yes/no environment variable."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    """Return an integer environment variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated environment variable as a list."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not FROM_CHECKOUT:
        raise ImproperlyConfigured("SECRET_KEY must be set (e.g. 50 random characters).")
    # Without SECRET_KEY a random key is kept in a git-ignored file, so a first run works and
    # sessions survive restarts; production sets SECRET_KEY.
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tables2",
    # Bootstrap 5's dist files, served by the app itself (no CDN).
    "bootstrap",
    "pfa",
    "accounts",
    "domains",
    "mailboxes",
    "aliases",
    "mailserver",
    "mail",
    "core",
    "selfservice",
    "auditlog",
    "twofactor",
    "vimbadmin3",
    # The REST API (api/) on Django REST framework; its OpenAPI document and Swagger UI's files.
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    # Bulk actions (bulk/): installed for its {% bulk_bar %} tag on the list pages.
    "bulk",
    "vimbadmin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vimbadmin.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "vimbadmin.security.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Dates in the user's time zone (the browser's, from a cookie the project's JS sets).
    "vimbadmin.timezones.UserTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A logged-in admin's or owner's stored language over the browser's (LocaleMiddleware's).
    "vimbadmin.i18n.LanguagePreferenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view looks an identifier up (after auth: the error pages show the menu).
    "vimbadmin.control_characters.ControlCharacterMiddleware",
    "core.context.RequestContextMiddleware",
    # A second-factor policy change reaches open sessions (a cache read per request).
    "twofactor.middleware.PolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vimbadmin.urls"
WSGI_APPLICATION = "vimbadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [FILES_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "vimbadmin.context_processors.layout",
            ],
        },
    },
]


# Django's form rendering with the plain input and select widgets written in Python (same markup).
FORM_RENDERER = "core.renderers.FastWidgetRenderer"


# A web request gives up waiting for a row lock after DATABASE_LOCK_TIMEOUT seconds and cancels
# a statement after DATABASE_STATEMENT_TIMEOUT (0: no limit), before the worker timeout (gunicorn
# --timeout) kills it, and the user gets "The database is busy" (vimbadmin/errors.py). The web
# server turns them on (vimbadmin/wsgi.py, runserver); commands, whose index builds and recounts
# may run for minutes, go without unless DATABASE_TIMEOUTS=true is set for them.
DATABASE_TIMEOUTS = env_bool("DATABASE_TIMEOUTS", False)
DATABASE_LOCK_TIMEOUT = env_int("DATABASE_LOCK_TIMEOUT", 10)
DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 20)


def database_options(
    engine: str, url_options: dict, *, lock_timeout: int, statement_timeout: int
) -> dict:
    """Return an engine's connection OPTIONS: the project's, overridden by DATABASE_URL's."""
    if engine.endswith("postgresql"):
        # No JIT: every query here reads a page of rows, and a plan whose cost estimate passes
        # jit_above_cost (the domain list's never-run fallback subqueries do) spends far longer
        # compiling than running (bench/RESULTS.md). A later -c wins, so ?options= does.
        flags = ["-c jit=off"]
        if lock_timeout > 0:
            flags.append(f"-c lock_timeout={lock_timeout}s")
        if statement_timeout > 0:
            flags.append(f"-c statement_timeout={statement_timeout}s")
        if url_options.get("options"):
            flags.append(url_options["options"])
        return {**url_options, "options": " ".join(flags)}
    if engine.endswith("mysql"):
        # utf8mb4 and strict mode so that MySQL refuses, rather than mangles, bad data.
        command = "SET sql_mode='STRICT_TRANS_TABLES'"
        if lock_timeout > 0:
            command += f", innodb_lock_wait_timeout={lock_timeout}"
        if statement_timeout > 0:
            # MariaDB only (/*M! is a comment to MySQL, whose max_execution_time covers SELECTs).
            command += f" /*M!, max_statement_time={statement_timeout} */"
        return {"charset": "utf8mb4", "init_command": command, **url_options}
    # IMMEDIATE takes the write lock at BEGIN, so a second writer waits for it (up to the
    # timeout) instead of failing with "database is locked" halfway through a change.
    return {"transaction_mode": "IMMEDIATE", "timeout": lock_timeout or 20, **url_options}


def _database() -> dj_database_url.DBConfig:
    url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}" if FROM_CHECKOUT else "")
    if not url:
        raise ImproperlyConfigured(
            "DATABASE_URL must be set, e.g. sqlite:////var/lib/vimbadmin/db.sqlite3 or "
            "postgresql://user:password@host:5432/name."
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj-database-url raises several types for a bad URL.
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a valid database URL ({exc}); expected e.g. "
            "postgresql://user:password@host:5432/name or mysql://user:password@host:3306/name."
        ) from None
    engine = config.get("ENGINE", "")
    if not engine.endswith(("postgresql", "mysql", "sqlite3")):
        raise ImproperlyConfigured(
            f"DATABASE_URL names an unsupported engine ({engine or 'none'}); use sqlite, "
            "postgresql or mysql."
        )
    config["OPTIONS"] = database_options(
        engine,
        config.get("OPTIONS", {}),
        lock_timeout=DATABASE_LOCK_TIMEOUT if DATABASE_TIMEOUTS else 0,
        statement_timeout=DATABASE_STATEMENT_TIMEOUT if DATABASE_TIMEOUTS else 0,
    )
    test_name = env_str("DATABASE_TEST_NAME")
    if test_name:
        config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Admin"
AUTHENTICATION_BACKENDS = ["accounts.backends.AdminBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "domains:domain-list"
LOGOUT_REDIRECT_URL = "accounts:login"

VIMBADMIN_PASSWORD_MIN_LENGTH = env_int("VIMBADMIN_PASSWORD_MIN_LENGTH", 12)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "name", "email_other")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": VIMBADMIN_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.MaximumLengthValidator"},
]

SESSION_COOKIE_AGE = env_int("VIMBADMIN_SESSION_LIFETIME", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production (HTTPS) switches: with SECURE_HSTS_SECONDS set, HSTS also covers the admin host's
# subdomains and allows preloading unless turned off, so `check --deploy` stays clean.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
PASSWORD_RESET_TIMEOUT = env_int("VIMBADMIN_PASSWORD_RESET_TIMEOUT", 3600)

LANGUAGE_CODE = "en"
# The shipped languages (README, "Languages"); the catalogues are in locale/, compiled at build.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("pt-br", "Português (Brasil)"),
    ("pl", "Polski"),
]
LOCALE_PATHS = [FILES_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic copies the static files to, for a web server to serve them.
STATIC_ROOT = env_str("STATIC_ROOT") or (BASE_DIR / "staticfiles" if FROM_CHECKOUT else None)
STATICFILES_DIRS = [FILES_DIR / "static"]
# Serve static files straight from the apps without collectstatic (production runs it anyway).
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Client certificate for relays that ask for one (with EMAIL_USE_TLS or EMAIL_USE_SSL).
EMAIL_SSL_CERTFILE = env_str("EMAIL_SSL_CERTFILE") or None
EMAIL_SSL_KEYFILE = env_str("EMAIL_SSL_KEYFILE") or None
# Seconds to wait for each step of the SMTP conversation; mail is sent while a web request waits.
# 10 s leaves room for a relay's greeting pause (Postfix postscreen: 6 s) and a TLS handshake,
# and a dead relay frees the worker well before the worker timeout.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Directory of django.core.mail.backends.filebased.EmailBackend: one file per mail sent.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or None
# Not stripped: the prefix usually ends in a space. It and SERVER_EMAIL serve only Django's mails
# to ADMINS, which is not read: server errors are logged instead of mailed.
EMAIL_SUBJECT_PREFIX = os.environ.get("EMAIL_SUBJECT_PREFIX") or "[ViMbAdmin] "
EMAIL_USE_LOCALTIME = env_bool("EMAIL_USE_LOCALTIME", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ViMbAdmin <postmaster@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Refuse at start what would otherwise fail on every send.
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured(
        "EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other: STARTTLS (port 587) or TLS (465)."
    )
if EMAIL_BACKEND.endswith(".filebased.EmailBackend") and not EMAIL_FILE_PATH:
    raise ImproperlyConfigured(
        "EMAIL_FILE_PATH must name the directory the file e-mail backend writes to."
    )

# Bootstrap 5 markup plus an empty state that offers the next step (templates/_table.html).
DJANGO_TABLES2_TEMPLATE = "_table.html"

# The project's own settings.
VIMBADMIN_PASSWORD_SCHEME = env_str("VIMBADMIN_PASSWORD_SCHEME", "ARGON2ID").upper()
# Postfix Admin's $CONF['encrypt'] when it runs on the same database ("none": it does not).
# New hashes are then written as it stores them, and logins re-hash only into what it verifies
# (mail/pfa_encrypt.py); checked at start by a system check.
VIMBADMIN_PFA_ENCRYPT = env_str("VIMBADMIN_PFA_ENCRYPT", "none")
VIMBADMIN_LOGIN_FAILURE_LIMIT = env_int("VIMBADMIN_LOGIN_FAILURE_LIMIT", 5)
VIMBADMIN_LOGIN_LOCKOUT_SECONDS = env_int("VIMBADMIN_LOGIN_LOCKOUT_SECONDS", 15 * 60)
VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20)
# Past the failure limit, tries from addresses an account has not logged in from lately wait
# this long after the last one, doubling up to the lockout (see accounts/throttle.py).
VIMBADMIN_LOGIN_SLOWDOWN_SECONDS = env_int("VIMBADMIN_LOGIN_SLOWDOWN_SECONDS", 30)
VIMBADMIN_LOGIN_KNOWN_ADDRESS_DAYS = env_int("VIMBADMIN_LOGIN_KNOWN_ADDRESS_DAYS", 30)
# prune_auth_events deletes auth events older than this.
VIMBADMIN_AUTH_EVENT_RETENTION_DAYS = env_int("VIMBADMIN_AUTH_EVENT_RETENTION_DAYS", 90)
VIMBADMIN_SELF_SERVICE_PASSWORD_RESET = env_bool("VIMBADMIN_SELF_SERVICE_PASSWORD_RESET", True)
# The name authenticator apps show beside the account of a second factor (twofactor/).
VIMBADMIN_TOTP_ISSUER = env_str("VIMBADMIN_TOTP_ISSUER", "ViMbAdmin")
# The address the admin is reached at: links in e-mails are built from it, never from the Host
# header. Unset: no reset link is mailed (and `check --deploy` fails), unless DEBUG is on.
VIMBADMIN_BASE_URL = env_str("VIMBADMIN_BASE_URL")
# Super admins recover through `manage.py setpassword`; mailed reset links are off for them
# unless this is on, and then go only to an address outside every domain hosted here.
VIMBADMIN_SUPERADMIN_MAIL_RESET = env_bool("VIMBADMIN_SUPERADMIN_MAIL_RESET", False)
# Postfix Admin's $CONF['vacation_domain']: auto-replies go through goto targets
# local#domain@<this domain>, which Postfix routes to the vacation transport. Empty: the
# vacation pages say the feature is off (existing vacation targets are still kept intact).
VIMBADMIN_VACATION_DOMAIN = env_str("VIMBADMIN_VACATION_DOMAIN").strip().lower()
# Answer only mail that names the mailbox in To or Cc (not Bcc, not via other aliases).
VIMBADMIN_VACATION_ONLY_DIRECT = env_bool("VIMBADMIN_VACATION_ONLY_DIRECT", False)
# Bytes per quota unit (MB) as Postfix Admin's $CONF['quota_multiplier'].
VIMBADMIN_QUOTA_MULTIPLIER = env_int("VIMBADMIN_QUOTA_MULTIPLIER", 1024000)
VIMBADMIN_MAILDIR_TEMPLATE = env_str("VIMBADMIN_MAILDIR_TEMPLATE", "%d/%u/")
VIMBADMIN_PASSWORD_EXPIRY_DAYS = env_int("VIMBADMIN_PASSWORD_EXPIRY_DAYS", 365)
# Dovecot refuses expired passwords (`mailconfig dovecot --password-expiry`): only then do the
# pages show when a password expires, and `manage.py password_expiry_warn` warns the owners
# VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS days before.
VIMBADMIN_PASSWORD_EXPIRY_ENFORCED = env_bool("VIMBADMIN_PASSWORD_EXPIRY_ENFORCED", False)
VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS = env_int("VIMBADMIN_PASSWORD_EXPIRY_WARN_DAYS", 14)
VIMBADMIN_DOMAIN_DEFAULT_ALIASES = env_int("VIMBADMIN_DOMAIN_DEFAULT_ALIASES", 10)
VIMBADMIN_DOMAIN_DEFAULT_MAILBOXES = env_int("VIMBADMIN_DOMAIN_DEFAULT_MAILBOXES", 10)
VIMBADMIN_DOMAIN_DEFAULT_MAXQUOTA = env_int("VIMBADMIN_DOMAIN_DEFAULT_MAXQUOTA", 2048)
VIMBADMIN_DOMAIN_DEFAULT_QUOTA = env_int("VIMBADMIN_DOMAIN_DEFAULT_QUOTA", 0)
VIMBADMIN_DOMAIN_DEFAULT_MAILBOX_QUOTA = env_int("VIMBADMIN_DOMAIN_DEFAULT_MAILBOX_QUOTA", 1024)
VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT = env_str("VIMBADMIN_DOMAIN_DEFAULT_TRANSPORT", "virtual")
VIMBADMIN_TRANSPORT_OPTIONS = env_list(
    "VIMBADMIN_TRANSPORT_OPTIONS", "virtual,lmtp:unix:private/dovecot-lmtp,local,relay"
)
# RFC 2142 aliases made with every new domain: "local=target,…"; "%d" is the new domain.
VIMBADMIN_DEFAULT_ALIASES = env_str(
    "VIMBADMIN_DEFAULT_ALIASES",
    "postmaster=postmaster@localhost,abuse=abuse@localhost,"
    "hostmaster=hostmaster@localhost,webmaster=webmaster@localhost",
)
VIMBADMIN_SETTINGS_IMAP = env_str("VIMBADMIN_SETTINGS_IMAP", "imap.%d:993:SSL/TLS")
VIMBADMIN_SETTINGS_POP3 = env_str("VIMBADMIN_SETTINGS_POP3", "pop3.%d:995:SSL/TLS")
VIMBADMIN_SETTINGS_SMTP = env_str("VIMBADMIN_SETTINGS_SMTP", "smtp.%d:587:STARTTLS")
VIMBADMIN_SETTINGS_WEBMAIL = env_str("VIMBADMIN_SETTINGS_WEBMAIL", "https://webmail.%d/")
VIMBADMIN_LIST_PAGE_SIZE = env_int("VIMBADMIN_LIST_PAGE_SIZE", 50)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        "vimbadmin": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        # Server errors with their tracebacks (django.request) and refused requests
        # (django.security) go to stderr: with DEBUG off Django's own configuration would only
        # mail them to ADMINS, which is not used here. DEBUG adds Django's notices, as before.
        "django": {
            "handlers": ["console"],
            "level": "INFO" if DEBUG else "ERROR",
            "propagate": False,
        },
        # Configuring "django" resets its children; keep runserver's request lines as they were.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
# Server errors (and the app's own errors) also go to this file when set, with tracebacks.
VIMBADMIN_ERROR_LOG_FILE = env_str("VIMBADMIN_ERROR_LOG_FILE")
if VIMBADMIN_ERROR_LOG_FILE:
    LOGGING["handlers"]["error_file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": VIMBADMIN_ERROR_LOG_FILE,
        "formatter": "plain",
        "level": "ERROR",
    }
    LOGGING["loggers"]["django"]["handlers"].append("error_file")
    LOGGING["loggers"]["vimbadmin"]["handlers"].append("error_file")
# Failed logins also go to this file when set, for fail2ban (see the README for the filter).
VIMBADMIN_AUTH_LOG_FILE = env_str("VIMBADMIN_AUTH_LOG_FILE")
if VIMBADMIN_AUTH_LOG_FILE:
    LOGGING["handlers"]["auth_file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": VIMBADMIN_AUTH_LOG_FILE,
        "formatter": "plain",
    }
    LOGGING["loggers"]["vimbadmin.auth"] = {
        "handlers": ["console", "auth_file"],
        "level": "INFO",
        "propagate": False,
    }

# The REST API (api/): token authentication only, JSON only, one error shape, keyset pages.
# Requests per API token (DRF's rate syntax, e.g. "600/minute"; empty: unlimited), counted in
# Django's cache, i.e. per process with the default local-memory cache.
VIMBADMIN_API_RATE = env_str("VIMBADMIN_API_RATE", "600/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.TokenPermission"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ViMbAdmin API",
    "DESCRIPTION": "Domains, mailboxes, aliases and alias domains of a Postfix Admin database.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI's files from drf-spectacular-sidecar, served as the project's static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}
