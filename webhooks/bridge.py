"""The contract between ``webhooks`` and ``contacts`` for calls that need exactly one answer.

``StoredEvents`` is what ``webhooks`` does with its stored copies of a contact when ``contacts`` asks:
rebuild them after an erasure, store the contact's deliveries as received again once it is reactivated,
read its timeline or its payloads. ``webhooks`` registers its implementation in ``WebhooksConfig.ready``.
``AccessTrail`` is how ``webhooks`` records a read of personal data in the trail ``contacts`` keeps;
``contacts`` registers it in ``ContactsConfig.ready``. Each side reaches the other with
``stored_events()`` or ``access_trail()``, never by importing it.

Each interface has exactly one implementation. Asking with none or two raises ``BridgeMisconfigured``
(naming what is missing, never a person's data): an erasure must not count 0 redactions because nobody
answered, nor twice because two did. A second registration raises at once and is kept, so neither answers
and ``manage.py check`` (``webhooks.E010``) reports it; production servers do not run the checks.

``contact_events`` stays a Django signal (``webhooks.signals``): the contacts handlers react to what
happened. Processing takes the batch's outcomes from the one receiver that answers with a list; receivers
that only listen answer None. No receiver at all is reported by the same check; two answering ones make
processing raise ``BridgeMisconfigured`` (outcomes are never merged), so the events fail and stay stored.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from django.core.checks import Error, register

from webhooks.events import StoredPayload, TimelineEntry
from webhooks.signals import contact_events

CHECK_ID = "webhooks.E010"


@runtime_checkable
class StoredEvents(Protocol):
    """``webhooks``'s stored deliveries about one contact (provider, account, the provider's contact id)."""

    def rebuild_subject_copies(self, *, provider: str, account_id: str, external_id: str) -> int:
        """The contact is erased: keep no personal data in its stored copies, now or in later deliveries.
        Returns how many stored payloads it rewrote."""
        ...

    def rebuild_erased_copies(self, *, subjects: Iterable[tuple[str, str, str]]) -> dict[str, int]:
        """Rebuild every stored copy of these erased contacts (``(provider, account_id, external_id)``) and
        of every contact listed as erased, by today's rule; idempotent. How many values changed, per
        ``table.column``."""
        ...

    def reactivate_subject(self, *, provider: str, account_id: str, external_id: str) -> None:
        """The erased contact lives again: store its later deliveries as received (old ones stay redacted)."""
        ...

    def timeline(
        self, *, provider: str, account_id: str, external_id: str, with_values: bool = False
    ) -> list[TimelineEntry]:
        """Its stored deliveries for staff, newest first; each change's values only ``with_values``."""
        ...

    def subject_payloads(
        self, *, provider: str, account_id: str, external_id: str, with_payloads: bool = True
    ) -> list[StoredPayload]:
        """Its stored deliveries for the person's own export, oldest first, payloads only ``with_payloads``."""
        ...

    # The outbound sender (``webhooks.outbound``): opaque messages, signed as Standard Webhooks, delivered by
    # ``webhook_worker``. ``contacts`` decides what goes to whom; the sender knows endpoints by their key.

    def configure_outbound_endpoint(self, *, key: str, label: str, url: str, secrets: list[str], active: bool) -> None:
        """Create or update the endpoint known by ``key`` (``label`` names it in metrics and lists)."""
        ...

    def queue_messages(self, *, endpoint_keys: list[str], event_type: str, data: dict, at: datetime) -> str:
        """One message to each endpoint, in the caller's transaction; returns its id (webhook-id).
        ``data`` is sent and stored as given: it must hold nothing personal."""
        ...

    def message_statuses(self, *, message_ids) -> dict[tuple[str, str], tuple[str, datetime | None]]:
        """(message id, endpoint key) → (``pending``, ``delivered``, ``failed`` or ``cancelled``; when delivered
        or last tried)."""
        ...

    def cancel_outbound_message(self, *, message_id: str, endpoint_key: str) -> bool:
        """Never send this message to this endpoint (status ``cancelled``); False when it was delivered already."""
        ...

    def undelivered_message_ids(self, *, created_before: datetime) -> set[str]:
        """Ids of messages queued before the time that some endpoint has not received yet."""
        ...


@runtime_checkable
class AccessTrail(Protocol):
    """The trail of who read personal data, kept by ``contacts``."""

    def record_events_export(self, *, user, export_format: str, rows: int) -> None:
        """Staff exported ``rows`` stored events with their payloads (``export_format`` "csv" or "json")."""
        ...

    def note_payload_read(self, *, provider: str, account_id: str, external_id: str, row) -> None:
        """A stored payload about this contact was read for the answer a request is getting (``row``: the event
        read, so a row read but not shown, a page's look-ahead, can be forgotten again). The trail names the
        contact once the answer is built, with who asked and through which page."""
        ...


class BridgeMisconfigured(RuntimeError):
    """An interface of the bridge has no implementation registered, or more than one."""


# Where each implementation comes from, for the messages.
REGISTERED_BY = {
    StoredEvents: "webhooks (WebhooksConfig.ready)",
    AccessTrail: "contacts (ContactsConfig.ready)",
}
_implementations: dict[type, list[object]] = {interface: [] for interface in REGISTERED_BY}


def register_stored_events(implementation: StoredEvents) -> None:
    _register(StoredEvents, implementation)


def register_access_trail(implementation: AccessTrail) -> None:
    _register(AccessTrail, implementation)


def unregister(implementation: object) -> None:
    """Withdraw a registered implementation (tests that take one away put it back with ``register_…``)."""
    for registered in _implementations.values():
        if implementation in registered:
            registered.remove(implementation)


def stored_events() -> StoredEvents:
    return _the_one(StoredEvents)


def access_trail() -> AccessTrail:
    return _the_one(AccessTrail)


def _register(interface: type, implementation: object) -> None:
    if not isinstance(implementation, interface):
        raise TypeError(f"{type(implementation).__qualname__} does not implement {interface.__name__}")
    registered = _implementations[interface]
    registered.append(implementation)
    if len(registered) > 1:
        raise BridgeMisconfigured(_problem(interface, len(registered)))


def _the_one(interface: type):
    registered = _implementations[interface]
    if len(registered) != 1:
        raise BridgeMisconfigured(_problem(interface, len(registered)))
    return registered[0]


def _problem(interface: type, count: int) -> str:
    name = f"webhooks.bridge.{interface.__name__}"
    if count == 0:
        return f"no {name} is registered; {REGISTERED_BY[interface]} registers the one implementation"
    return f"{name} is registered {count} times; exactly one implementation may be"


@register()
def check_bridge(app_configs, **kwargs) -> list[Error]:
    """Exactly one implementation of each interface, and a receiver for ``contact_events``."""
    problems = [
        Error(_problem(interface, len(registered)), id=CHECK_ID)
        for interface, registered in _implementations.items()
        if len(registered) != 1
    ]
    if not contact_events.has_listeners():
        problems.append(
            Error(
                "webhooks.signals.contact_events has no receiver; one must answer each batch with its outcomes",
                hint="contacts connects it in contacts/receivers.py: is 'contacts' in INSTALLED_APPS?",
                id=CHECK_ID,
            )
        )
    return problems
