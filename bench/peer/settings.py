"""The typical peer: what a Django team writes by hand for the same webhooks, in dj-stripe's shape (see
docs/performance.md): Django's default middleware (``startproject``'s), the event row get_or_create'd, the
contact update_or_create'd in the request, no field versions, no erasure. Same Django, gunicorn, psycopg and
database as the app; on SQLite the project's own connection settings (``config.db.sqlite``)."""

import os

import environ

from config.db.sqlite import sqlite_options

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "bench.peer",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.peer.urls"
WSGI_APPLICATION = "bench.peer.wsgi.application"
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        sqlite_options(env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=20))
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
PEER_SECRETS = {
    "timely": os.environ.get("TIMELY_WEBHOOK_SECRETS", "").split(",")[0],
    "fpt": os.environ.get("FPT_WEBHOOK_SECRETS", "").split(",")[0],
}
