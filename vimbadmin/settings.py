"""Settings, read from environment variables; `.env.example` documents every one of them.

SQLite in the project directory is the default database so that a newcomer can run the app at
once; `DATABASE_URL` selects PostgreSQL or MySQL/MariaDB.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


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
    "vimbadmin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vimbadmin.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "vimbadmin.context.RequestContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vimbadmin.urls"
WSGI_APPLICATION = "vimbadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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
FORM_RENDERER = "vimbadmin.renderers.FastWidgetRenderer"


def _database() -> dict:
    url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj-database-url raises several types for a bad URL.
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a valid database URL ({exc}); expected e.g. "
            "postgresql://user:password@host:5432/name or mysql://user:password@host:3306/name."
        ) from None
    engine = config.get("ENGINE", "")
    if engine.endswith("mysql"):
        # utf8mb4 and strict mode so that MySQL refuses, rather than mangles, bad data.
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("charset", "utf8mb4")
        config["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
    elif engine.endswith("sqlite3"):
        # IMMEDIATE takes the write lock at BEGIN, so a second writer waits for it (up to the
        # timeout) instead of failing with "database is locked" halfway through a change.
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
        config["OPTIONS"].setdefault("timeout", 20)
    elif engine.endswith("postgresql"):
        # No JIT: every query here reads a page of rows, and a plan whose cost estimate passes
        # jit_above_cost (the domain list's never-run fallback subqueries do) spent 45 ms
        # compiling before returning 50 rows in 0.6 ms. A DATABASE_URL ?options= wins.
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("options", "-c jit=off")
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL names an unsupported engine ({engine or 'none'}); use sqlite, "
            "postgresql or mysql."
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
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve static files straight from the apps without collectstatic (production runs it anyway).
WHITENOISE_USE_FINDERS = True

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ViMbAdmin <postmaster@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Bootstrap 5 markup plus an empty state that offers the next step (templates/_table.html).
DJANGO_TABLES2_TEMPLATE = "_table.html"

# The project's own settings.
VIMBADMIN_PASSWORD_SCHEME = env_str("VIMBADMIN_PASSWORD_SCHEME", "ARGON2ID").upper()
VIMBADMIN_LOGIN_FAILURE_LIMIT = env_int("VIMBADMIN_LOGIN_FAILURE_LIMIT", 5)
VIMBADMIN_LOGIN_LOCKOUT_SECONDS = env_int("VIMBADMIN_LOGIN_LOCKOUT_SECONDS", 15 * 60)
VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("VIMBADMIN_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20)
VIMBADMIN_SELF_SERVICE_PASSWORD_RESET = env_bool("VIMBADMIN_SELF_SERVICE_PASSWORD_RESET", True)
# The address the admin is reached at: links in e-mails are built from it, never from the Host
# header. Unset: no reset link is mailed (and `check --deploy` fails), unless DEBUG is on.
VIMBADMIN_BASE_URL = env_str("VIMBADMIN_BASE_URL")
# Super admins recover through `manage.py setpassword`; mailed reset links are off for them
# unless this is on, and then go only to an address outside every domain hosted here.
VIMBADMIN_SUPERADMIN_MAIL_RESET = env_bool("VIMBADMIN_SUPERADMIN_MAIL_RESET", False)
# Bytes per quota unit (MB) as Postfix Admin's $CONF['quota_multiplier'].
VIMBADMIN_QUOTA_MULTIPLIER = env_int("VIMBADMIN_QUOTA_MULTIPLIER", 1024000)
VIMBADMIN_MAILDIR_TEMPLATE = env_str("VIMBADMIN_MAILDIR_TEMPLATE", "%d/%u/")
VIMBADMIN_PASSWORD_EXPIRY_DAYS = env_int("VIMBADMIN_PASSWORD_EXPIRY_DAYS", 365)
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "vimbadmin": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    },
}
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
