"""Provider registry. A provider is one module (``webhooks/providers/<name>.py``, or the one its settings
entry names as ``MODULE``) defining one ``WebhookProvider`` subclass whose ``name`` is its key in
``settings.WEBHOOK_PROVIDERS``, plus its samples beside the module (``samples/<name>/*.json``). A
misconfigured one is reported by ``manage.py check`` (``webhooks/providers/checks.py``); at runtime its
URL is a 404 like any unknown provider's.
"""

import importlib
import re
from functools import cache

from django.conf import settings

from webhooks.providers.base import WebhookProvider

_NAME = re.compile(r"[a-z][a-z0-9_]*")
PACKAGE = __name__


class UnknownProvider(LookupError):
    """No provider by that name: not configured, or its module or class cannot be found. The message
    says which (names only), for ``manage.py check``."""


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
        raise UnknownProvider(f"{name!r} is not a configured provider")
    return _load(name, _config_key(name))


def module_path(name: str) -> str:
    """The module implementing a configured provider."""
    return settings.WEBHOOK_PROVIDERS.get(name, {}).get("MODULE") or f"{PACKAGE}.{name}"


def provider_classes(module) -> list[type[WebhookProvider]]:
    """The providers a module defines (not those it imports)."""
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, WebhookProvider)
        and obj.__module__ == module.__name__
        and isinstance(getattr(obj, "name", None), str)
    ]


def provider_class(name: str) -> type[WebhookProvider]:
    """The one class implementing the configured provider ``name``, or ``UnknownProvider`` saying why."""
    if not _NAME.fullmatch(name or ""):
        raise UnknownProvider(f"{name!r} is not a provider name (lower-case letters, digits and _)")
    path = module_path(name)
    try:
        module = importlib.import_module(path)
    except ModuleNotFoundError as missing:
        if missing.name is None or path == missing.name or path.startswith(f"{missing.name}."):
            raise UnknownProvider(f"provider {name!r} has no module {path}") from None
        raise UnknownProvider(f"{path} cannot be imported: module {missing.name} is missing") from None
    classes = [cls for cls in provider_classes(module) if cls.name == name]
    if len(classes) != 1:
        found = ", ".join(sorted(repr(cls.name) for cls in provider_classes(module))) or "none"
        raise UnknownProvider(
            f"{path} must define exactly one WebhookProvider named {name!r} "
            f"(found {len(classes)}; provider names there: {found})"
        )
    return classes[0]


def _config_key(name):
    # Settings may change (tests override them): cache per configuration, not per name.
    config = settings.WEBHOOK_PROVIDERS[name]
    return (
        repr(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items())),
        settings.WEBHOOK_TOLERANCE_SECONDS,
    )


@cache
def _load(name: str, key) -> WebhookProvider:
    return provider_class(name)(settings.WEBHOOK_PROVIDERS[name], tolerance_seconds=settings.WEBHOOK_TOLERANCE_SECONDS)
