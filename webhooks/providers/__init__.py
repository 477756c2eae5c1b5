"""Provider registry. A provider is one module here (``webhooks/providers/<name>.py``) defining one
``WebhookProvider`` subclass whose ``name`` matches the module, plus its entry in
``settings.WEBHOOK_PROVIDERS`` (secrets and allow-lists, read from the environment).
"""

import importlib
import re
from functools import cache

from django.conf import settings

from webhooks.providers.base import WebhookProvider

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class UnknownProvider(LookupError):
    pass


def provider_names() -> list[str]:
    """Providers that are both configured in settings and implemented by a module."""
    names = []
    for name in sorted(settings.WEBHOOK_PROVIDERS):
        try:
            get_provider(name)
        except UnknownProvider:
            continue
        names.append(name)
    return names


def get_provider(name: str) -> WebhookProvider:
    if not _NAME.fullmatch(name or "") or name not in settings.WEBHOOK_PROVIDERS:
        raise UnknownProvider(name)
    return _load(name, _config_key(name))


def _config_key(name):
    # Settings may change (tests override them): cache per configuration, not per name.
    config = settings.WEBHOOK_PROVIDERS[name]
    return (
        repr(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items())),
        settings.WEBHOOK_TOLERANCE_SECONDS,
    )


@cache
def _load(name: str, key) -> WebhookProvider:
    try:
        module = importlib.import_module(f"webhooks.providers.{name}")
    except ModuleNotFoundError:
        raise UnknownProvider(name) from None
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, WebhookProvider) and getattr(obj, "name", None) == name
    ]
    if len(classes) != 1:
        raise UnknownProvider(name)
    return classes[0](settings.WEBHOOK_PROVIDERS[name], tolerance_seconds=settings.WEBHOOK_TOLERANCE_SECONDS)
