"""``.env`` at the project root, read into the process environment by every entry point (``manage.py``,
``config/wsgi.py``, ``config/asgi.py``) before it chooses the settings module, so a ``DJANGO_SETTINGS_MODULE``
written there is obeyed: a cron job or a shell-started worker then runs with the settings the file names, not
with the development default. Variables already in the environment win over the file."""

from pathlib import Path

import environ

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def read_env_file() -> None:
    environ.Env.read_env(ENV_FILE, overwrite=False)
