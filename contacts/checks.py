"""Startup checks: a misnamed contact fetcher is reported by ``manage.py check``, not by failed look-ups."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string


@register()
def check_contact_fetchers(app_configs, **kwargs):
    problems = []
    for provider, path in settings.CONTACT_FETCHERS.items():
        if provider not in settings.WEBHOOK_PROVIDERS:
            problems.append(
                Warning(f"CONTACT_FETCHERS names {provider!r}, which is not a webhook provider", id="contacts.W001")
            )
        try:
            fetcher = import_string(path)
        except ImportError:
            problems.append(
                Error(f"the contact fetcher for {provider!r} ({path}) cannot be imported", id="contacts.E001")
            )
            continue
        if not callable(fetcher):
            problems.append(Error(f"the contact fetcher for {provider!r} ({path}) is not callable", id="contacts.E002"))
    return problems
