import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from config.shared_counters import share_counters_between_processes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
share_counters_between_processes(settings)  # before the apps import prometheus-client
application = get_asgi_application()
