"""Startup checks: a provider that is configured but cannot be found, or implemented but not configured, is
reported by ``manage.py check`` (and every command that runs the checks), not by a 404 at runtime."""

import importlib
import pkgutil

from django.conf import settings
from django.core.checks import Error, Warning, register

from webhooks import providers
from webhooks.providers import UnknownProvider, provider_class, provider_classes


@register()
def check_webhook_providers(app_configs, **kwargs):
    problems = []
    for name in settings.WEBHOOK_PROVIDERS:
        try:
            provider_class(name)
        except UnknownProvider as unknown:
            problems.append(
                Error(
                    f"WEBHOOK_PROVIDERS[{name!r}]: {unknown}",
                    hint="A provider is one module defining one WebhookProvider subclass whose `name` is its key "
                    "in WEBHOOK_PROVIDERS (docs/providers.md).",
                    id="webhooks.E001",
                )
            )
    for module_name, provider_name in implemented_providers():
        if provider_name not in settings.WEBHOOK_PROVIDERS:
            problems.append(
                Warning(
                    f"{module_name} implements provider {provider_name!r}, which WEBHOOK_PROVIDERS does not "
                    "configure: its URL answers 404",
                    hint=f"Add its entry to WEBHOOK_PROVIDERS (config/settings/base.py), or rename the class's "
                    f"`name` to its module's ({module_name.rpartition('.')[2]!r}).",
                    id="webhooks.W001",
                )
            )
    return problems


@register()
def check_webhook_secrets(app_configs, **kwargs):
    """A secret shorter than its provider's minimum is most likely cut short or guessable. The message says
    which entry and how long, never the secret."""
    problems = []
    for name, entry in settings.WEBHOOK_PROVIDERS.items():
        try:
            minimum = provider_class(name).min_secret_length
        except UnknownProvider:
            continue  # reported by check_webhook_providers
        for position, secret in enumerate(entry.get("SECRETS", []), start=1):
            if len(secret) < minimum:
                problems.append(
                    Warning(
                        f"Secret {position} of {name.upper()}_WEBHOOK_SECRETS has {len(secret)} characters; "
                        f"{name} secrets have at least {minimum}",
                        hint="Copy the whole secret the provider handed out (entries are comma-separated).",
                        id="webhooks.W002",
                    )
                )
    return problems


def implemented_providers() -> list[tuple[str, str]]:
    """``(module, provider name)`` for every provider class defined in this package's modules."""
    found = []
    for module_info in pkgutil.iter_modules(providers.__path__, prefix=f"{providers.PACKAGE}."):
        module = importlib.import_module(module_info.name)
        found += [(module_info.name, cls.name) for cls in provider_classes(module)]
    return found
