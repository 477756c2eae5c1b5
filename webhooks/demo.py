"""A demo with people in it: the made-up people of ``webhooks.demo_people``, as each provider module sends
them (``WebhookProvider.demo_payloads``), signed with its configured secret and sent through the real
endpoint (``webhooks:receive``), in-process. ``demo_contacts`` and ``setup_demo`` (on a new database) load
them; the same seed makes the same event ids, so loading twice stores duplicates, not new people.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.test import Client, override_settings
from django.urls import reverse

from webhooks.demo_people import ChangeKind, DemoChange, demo_history
from webhooks.providers import get_provider, provider_names
from webhooks.worker import WebhookWorker


def demo_deliveries(changes: list[DemoChange], get_provider: Callable) -> Iterator[tuple[str, bytes, dict]]:
    """``(provider name, body, headers)`` of every delivery the changes make, in order, each signed as it is
    about to be sent (a signature is only good for ``WEBHOOK_TOLERANCE_SECONDS``)."""
    for change in changes:
        provider = get_provider(change.person.provider)
        for payload in provider.demo_payloads(change):
            body, headers = provider.signed_delivery(payload, now=datetime.now(UTC))
            yield provider.name, body, headers


def load_demo(count: int, *, seed: int, ends: datetime | None = None) -> Counter:
    """Send the demo's deliveries through the real endpoint, in-process, and apply them; the answers'
    status codes, counted. In-process (no HTTP round trip, no server to wait for), the endpoint stores each
    as in worker mode (one INSERT), then the worker applies them in batches of 100, the deletions in a second
    round after the people they delete (the worker would apply them first): faster than applying each inside
    its request (docs/performance.md)."""
    providers = {name: get_provider(name) for name in provider_names() if get_provider(name).configured}
    ends = ends or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    history = demo_history(count, seed=seed, providers={name: p.demo_weight for name, p in providers.items()},
                           ends=ends)  # fmt: skip
    client, answers = Client(SERVER_NAME="localhost"), Counter()
    with quiet("webhooks", "contacts"):
        for deleting in (False, True):
            changes = [change for change in history if (change.kind == ChangeKind.DELETED) == deleting]
            deliver_round(client, answers, providers, changes)
    return answers


def deliver_round(client, answers: Counter, providers: dict, changes: list[DemoChange]) -> None:
    with override_settings(WEBHOOK_PROCESSING="worker"):
        for name, body, headers in demo_deliveries(changes, providers.__getitem__):
            response = client.post(reverse("webhooks:receive", args=[name]), body, content_type="application/json",
                                   headers={k: v for k, v in headers.items() if k != "Content-Type"})  # fmt: skip
            answers[response.status_code] += 1
    WebhookWorker(once=True, outbound=False, listen=False).run()


@contextmanager
def quiet(*loggers: str):
    """A line per event for hundreds of made-up events says nothing: only warnings and errors, meanwhile."""
    levels = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
