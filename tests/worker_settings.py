"""Settings of the processes that tests start (gunicorn, ``manage.py webhook_worker``): the test settings
in production's mode, workers applying what the requests store (``DATABASE_URL`` names the test database)."""

import os

from config.settings.test import *  # noqa: F403

WEBHOOK_PROCESSING = os.environ.get("TEST_WEBHOOK_PROCESSING", "worker")
# Quick to notice a stop and to come back after a lost connection, so the tests stay short.
WEBHOOK_WORKER_POLL_SECONDS = 1.0
# A fetcher for the worker's look-ups, where a test names one (the test settings configure none).
CONTACT_FETCHERS = {"fpt": os.environ["FPT_CONTACT_FETCHER"]} if os.environ.get("FPT_CONTACT_FETCHER") else {}
