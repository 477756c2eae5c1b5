"""Settings of the ``manage.py db_worker`` processes that tests start: the test settings, with tasks
kept in the database (``DATABASE_URL`` names the test database)."""

from config.settings.test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "config.tasks.DatabaseBackend"}}
