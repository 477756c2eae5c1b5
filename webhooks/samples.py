"""The documented example events (``tests/fixtures/<provider>/<event>.json``), signed and sent.

The fixtures are the providers' own examples: the tests replay them, and so do ``send_test_webhook``
and the demo.
"""

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from webhooks.providers import get_provider

FIXTURES_DIR = Path(settings.BASE_DIR) / "tests" / "fixtures"


def sample_names(provider_name: str) -> list[str]:
    return sorted(path.stem for path in (FIXTURES_DIR / provider_name).glob("*.json"))


def load_fixture(provider_name: str, event_name: str) -> dict:
    path = FIXTURES_DIR / provider_name / f"{event_name}.json"
    if not path.is_file():
        known = ", ".join(sample_names(provider_name)) or "none"
        raise LookupError(f"no sample {event_name!r} for {provider_name} (known: {known})")
    return json.loads(path.read_text())


def signed_sample(provider_name: str, event_name: str, *, fresh: bool = True) -> tuple[bytes, dict[str, str]]:
    """The sample's body and the headers that sign it with the configured secret."""
    provider = get_provider(provider_name)
    if not provider.configured:
        raise LookupError(f"{provider_name} has no webhook secret configured")
    payload = load_fixture(provider_name, event_name)
    now = datetime.now(UTC)
    if fresh:
        payload = provider.fresh_sample(payload, now=now)
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **provider.signed_sample_headers(body, now=now.timestamp())}
    return body, headers


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
