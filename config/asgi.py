import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from config.env_file import read_env_file
from config.ops.shared_counters import share_counters_between_processes

# .env first: a DJANGO_SETTINGS_MODULE written there is obeyed; the environment wins over both.
read_env_file()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
share_counters_between_processes(settings)  # before the apps import prometheus-client
application = get_asgi_application()
