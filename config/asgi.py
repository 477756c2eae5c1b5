import os

from django.core.asgi import get_asgi_application

from config.env_file import read_env_file

# .env first: a DJANGO_SETTINGS_MODULE written there is obeyed; the environment wins over both.
read_env_file()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
