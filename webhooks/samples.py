"""The documented example events of each provider, signed and sent.

They live beside the provider's module, in ``samples/<provider>/<event>.json`` (the providers' own examples:
``webhooks/providers/samples/timely/contact.created.json``). ``send_test_webhook`` and the demo send them,
and the tests replay them.
"""

import inspect
import json
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from webhooks.providers import get_provider, provider_class


def samples_dir(provider_name: str) -> Path:
    """``samples/<provider>/`` beside the module that implements the provider."""
    return Path(inspect.getfile(provider_class(provider_name))).parent / "samples" / provider_name


def sample_names(provider_name: str) -> list[str]:
    return sorted(path.name.removesuffix(".json") for path in samples_dir(provider_name).glob("*.json"))


def load_sample(provider_name: str, event_name: str) -> dict:
    path = samples_dir(provider_name) / f"{event_name}.json"
    if not path.is_file():
        known = ", ".join(sample_names(provider_name)) or "none"
        raise LookupError(f"no sample {event_name!r} for {provider_name} (known: {known})")
    return json.loads(path.read_text())


def signed_sample(provider_name: str, event_name: str, *, fresh: bool = True) -> tuple[bytes, dict[str, str]]:
    """The sample's body and the headers that sign it with the configured secret."""
    provider = get_provider(provider_name)
    if not provider.configured:
        raise LookupError(f"{provider_name} has no webhook secret configured")
    payload = load_sample(provider_name, event_name)
    now = datetime.now(UTC)
    if fresh:
        payload = provider.fresh_sample(payload, now=now)
    return provider.signed_delivery(payload, now=now)


class Redirected(Exception):
    """The server answered with a redirect: a signed delivery is never re-sent elsewhere."""

    def __init__(self, status: int, location: str):
        super().__init__(f"{status} redirect to {location}")
        self.status, self.location = status, location


class NotTLS(Exception):
    """An https:// URL whose server answered in plain HTTP."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # urllib then raises the 3xx as an HTTPError, handled below


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.build_opener(_NoRedirects).open(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise Redirected(exc.code, exc.headers.get("Location", "")) from None
        return exc.code, exc.read().decode()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(exc.reason):
            raise NotTLS(url) from None
        raise
