"""The floor: the least a correct, durable webhook receiver does on our stack (see bench/README in the
project README's Performance section). Same Django, gunicorn, psycopg and PostgreSQL as the app; nothing
else: no middleware, no admin, and no contact unless ``FLOOR_APPLY``."""

import os

import environ

from config.db.sqlite import sqlite_options

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# FLOOR_APPLY=true: after the commit, a second transaction locks the contact's row, applies the event by
# last-write-wins and marks the event processed: the least "store, then apply after commit" can do.
FLOOR_APPLY = env.bool("FLOOR_APPLY", default=False)
INSTALLED_APPS = ["bench.floor"]
MIDDLEWARE = []
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # the project's own settings (config/db/sqlite/)
    options = sqlite_options(env.int("SQLITE_BUSY_TIMEOUT_SECONDS", default=20))
    DATABASES["default"].setdefault("OPTIONS", {}).update(options)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
FLOOR_SECRETS = {
    "timely": os.environ.get("TIMELY_WEBHOOK_SECRETS", "").split(",")[0],
    "fpt": os.environ.get("FPT_WEBHOOK_SECRETS", "").split(",")[0],
}
