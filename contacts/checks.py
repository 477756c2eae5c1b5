"""Startup checks: a misnamed contact fetcher is reported by ``manage.py check``, not by failed look-ups; a
missing fingerprint key by ``check --deploy``."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
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


@register(Tags.security, deploy=True)
def check_fingerprint_key(app_configs, **kwargs):
    """Production needs the key from the first erasure on: a record written without it can never be found by
    email or phone ("Was this person erased?"). Only ``check --deploy`` reports it, so the server still starts."""
    if settings.ERASURE_FINGERPRINT_KEY:
        return []
    return [
        Error(
            "ERASURE_FINGERPRINT_KEY is not set: erasure records get no fingerprints, so nobody can be told "
            "whether their data was erased (erasure_lookup, the admin's 'Was this person erased?')",
            hint="Set it to a long random value kept outside the database, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))', and never change it while the "
            "erasure log is kept (docs/production.md, First install).",
            id="contacts.E006",
        )
    ]
