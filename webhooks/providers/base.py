"""What every provider module implements: verify the raw request, parse its envelope, interpret it.

A provider is one module defining one ``WebhookProvider`` subclass, named in ``settings.WEBHOOK_PROVIDERS``
(``webhooks/providers/__init__.py``; docs/providers.md). The view, the event log and the worker know
providers only through this interface. A provider knows no HTTP: it is handed the raw body and headers.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from config.values.erased_ids import is_plain_id
from webhooks.events import ContactEvent
from webhooks.providers.fields import EnvelopeError, as_id
from webhooks.providers.json_body import load_json_leniently, load_json_object
from webhooks.providers.schema import COMMON_SURVIVING_HEADERS, Schema, rebuild, rebuilt_headers
from webhooks.providers.signing import check_fresh, hmac_sha256_hex, signed_by_any, timestamped

if TYPE_CHECKING:
    from webhooks.demo_people import DemoChange


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """The envelope facts we index and store, read once at ingest."""

    dedupe_key: str
    event_id: str
    event_type: str
    account_id: str
    external_id: str
    occurred_at: datetime | None
    payload: dict
    # Names no contact we can read (an id that cannot be stored, several ids, none at all): no erasure
    # could find it by id later, so it is stored redacted from the start.
    subject_unreadable: bool = False

    @classmethod
    def of_stored(cls, event, *, occurred_at: datetime | None, payload: dict | None = None) -> "Delivery":
        """The delivery a stored event (``WebhookEvent``) was, read back from its columns and payload (or the
        ``payload`` its body was already parsed into), to be interpreted again by its provider;
        ``occurred_at`` as processing trusts it."""
        envelope = ("dedupe_key", "event_id", "event_type", "account_id", "external_id")
        payload = event.payload if payload is None else payload
        return cls(**{name: getattr(event, name) for name in envelope}, occurred_at=occurred_at, payload=payload)


@dataclass(frozen=True)
class Ignore:
    """The provider's verdict that an event needs no application, and why (ids only)."""

    reason: str


class WebhookProvider:
    name: ClassVar[str]
    verbose_name: ClassVar[str]
    # Request headers kept with the event besides the common ones (never signatures or credentials).
    stored_headers: ClassVar[tuple[str, ...]] = ()
    # The event type whose payload is redacted before it is first saved.
    deletion_event_type: ClassVar[str]
    # What survives an erasure (``webhooks.providers.schema``), declared field by field: of the events of
    # ``family_prefix`` (its contact events), of every other family (unpublished shapes: the envelope only),
    # and of the stored headers besides the common ones. Everything undeclared goes.
    family_prefix: ClassVar[str] = "contact."
    surviving_fields: ClassVar[Schema] = {}
    surviving_other_family_fields: ClassVar[Schema] = {}
    surviving_headers: ClassVar[Schema] = {}
    # The key of an event's ``data`` object naming its contact (``contact.*`` events).
    subject_id_key: ClassVar[str]
    # A configured secret shorter than this is reported by ``manage.py check`` (webhooks.W002): a truncated
    # paste, or a guessable key. 16 characters of a random secret are 128 bits, the least for an HMAC key.
    min_secret_length: ClassVar[int] = 16

    def __init__(self, config: Mapping[str, Any], *, tolerance_seconds: int):
        self.secrets: list[str] = [s for s in config.get("SECRETS", []) if s]
        self.allowed_accounts: frozenset[str] = frozenset(config.get("ACCOUNT_IDS", []))
        self.config = config
        self.tolerance_seconds = tolerance_seconds

    @property
    def configured(self) -> bool:
        return bool(self.secrets)

    def account_allowed(self, account_id: str) -> bool:
        return not self.allowed_accounts or account_id in self.allowed_accounts

    # --- to implement -----------------------------------------------------------------------------
    def verify(self, *, headers: Mapping[str, str], body: bytes, now: float) -> str:
        """Return the name of the signature form that matched, or raise ``SignatureError``."""
        raise NotImplementedError

    def parse(self, body: bytes) -> Delivery:
        """Validate the envelope and return what we store; raise ``EnvelopeError`` when it is unusable."""
        raise NotImplementedError

    def interpret(self, delivery: Delivery) -> ContactEvent | Ignore:
        """Turn a stored delivery into a normalized event, or say why there is nothing to apply.

        May raise ``ValueError`` or ``TypeError`` for payload values it cannot understand: the event is
        then marked failed and can be replayed once the cause is fixed.
        """
        raise NotImplementedError

    def read_id(self, value: Any, *, field: str) -> str:
        """An id of the envelope as stored (``as_id``), or ``EnvelopeError``."""
        return as_id(value, field=field)

    def read_other_family_id(self, value: Any, *, field: str) -> str:
        """A contact id found in an event of a family we do not apply (shapes unpublished)."""
        return self.read_id(value, field=field)

    def data_object(self, payload: dict) -> dict:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise EnvelopeError("'data' must be an object")
        return data

    def subject(self, event_type: str, data: dict) -> tuple[str, bool]:
        """``(external_id, subject_unreadable)``: a ``contact.*`` event names its contact under
        ``subject_id_key`` (else 400). Other families (``message.*``, ``conversation.*``) may name it too,
        perhaps as ``data.contact.id``: the one contact found wherever ``subject_id_candidates`` looks keeps
        the link, so an erasure reaches their payloads. Naming none we can read (or two different ones), it
        is stored redacted: nothing could ever erase it later."""
        field = f"data.{self.subject_id_key}"
        if event_type.startswith("contact."):
            return self.read_id(data.get(self.subject_id_key), field=field), False
        try:
            ids = {self.read_other_family_id(value, field=field) for value in subject_id_candidates(data)}
        except EnvelopeError:
            return "", True
        if len(ids) != 1:
            return "", True
        return ids.pop(), False

    def is_erasure(self, delivery: Delivery) -> bool:
        """True for deletions, whose payloads are redacted before they are first saved."""
        return delivery.event_type == self.deletion_event_type

    def redacted_before_saving(self, delivery: Delivery) -> bool:
        """Deletions, and events naming a contact no erasure could find: never saved in full."""
        return self.is_erasure(delivery) or delivery.subject_unreadable

    def load_envelope(self, body: bytes, *, event_type_key: str) -> dict:
        """The body as an object (``load_json_object``); a deletion's also when some value in it could not
        be stored (``load_json_leniently``). A deletion is redacted before it is saved, so only its type,
        ids and times need to be readable: no signed payload can stop an erasure."""
        try:
            return load_json_object(body)
        except EnvelopeError as refused:
            try:
                payload = load_json_leniently(body)
            except EnvelopeError:
                raise refused from None
            if payload.get(event_type_key) != self.deletion_event_type:
                raise refused from None
            return payload

    def surviving_schema(self, event_type: str) -> Schema:
        """The declaration an event of ``event_type`` is rebuilt from (a type that is no plain id is no
        family's: rebuilding a rebuilt copy changes nothing)."""
        if is_plain_id(event_type) and event_type.startswith(self.family_prefix):
            return self.surviving_fields
        return self.surviving_other_family_fields

    def rebuilt_body(self, payload: Any, *, event_type: str) -> bytes:
        """The payload rebuilt from what is declared to survive, encoded as a stored body is (compact UTF-8
        JSON): what every copy of a payload about an erased contact becomes, before it is first saved or
        in place later."""
        rebuilt = rebuild(payload, self.surviving_schema(event_type))
        return json.dumps(rebuilt, ensure_ascii=False, separators=(",", ":")).encode()

    def rebuilt_headers(self, headers: Any) -> dict[str, str]:
        """The stored headers that survive an erasure: the common allowlist and the provider's own."""
        return rebuilt_headers(headers, {**COMMON_SURVIVING_HEADERS, **self.surviving_headers})

    def event_identity(self, delivery: Delivery) -> dict[str, Any]:
        """The ``ContactEvent`` arguments every event of a delivery shares: whose, when, which."""
        return {
            "provider": self.name,
            "account_id": delivery.account_id,
            "external_id": delivery.external_id,
            "changed_at": delivery.occurred_at,
            "dedupe_key": delivery.dedupe_key,
            "event_id": delivery.event_id,
        }

    def signature_matches(self, signatures: list[str], message: bytes) -> bool:
        """Any of ``signatures`` (lower-case hex) is the HMAC-SHA256 of ``message`` under any configured
        secret (several during a rotation), compared in constant time."""
        return signed_by_any(signatures, message, self.secrets)

    def check_timestamp(self, timestamp: str, *, now: float) -> None:
        """``SignatureError`` when a signed timestamp is outside ``WEBHOOK_TOLERANCE_SECONDS``."""
        check_fresh(timestamp, now=now, tolerance_seconds=self.tolerance_seconds)

    def sample_signature(self, timestamp: str, body: bytes) -> str:
        """HMAC-SHA256 of ``"{timestamp}.{body}"`` under the first configured secret, in hex."""
        return hmac_sha256_hex(self.secrets[0], timestamped(timestamp, body))

    # --- samples (``send_test_webhook``, the demo) --------------------------------------------------
    def signed_sample_headers(self, body: bytes, *, now: float) -> dict[str, str]:
        """Headers that sign ``body`` with the first configured secret (for ``send_test_webhook``)."""
        raise NotImplementedError

    def fresh_sample(self, payload: dict, *, now: datetime) -> dict:
        """A fixture made new: a fresh event id and current times, so that it is not a duplicate."""
        return payload

    def signed_delivery(self, payload: dict, *, now: datetime) -> tuple[bytes, dict[str, str]]:
        """``payload`` as sent: its body and the headers that sign it with the first configured secret."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        return body, {"Content-Type": "application/json", **self.signed_sample_headers(body, now=now.timestamp())}

    # --- the demo (``demo_contacts``) ---------------------------------------------------------------
    # How many of the demo's people, relative to the other providers, are this provider's.
    demo_weight: ClassVar[int] = 1

    def demo_payloads(self, change: "DemoChange") -> list[dict]:
        """The deliveries this provider sends for one change of a made-up person (``webhooks.demo_people``), in the
        order it sends them; ids made from the person's and the change's (the same seed, the same ids)."""
        raise NotImplementedError


SUBJECT_ID_KEYS = ("contact_id", "contactId")


def subject_id_candidates(data: dict) -> list[Any]:
    """Every value by which an event's ``data`` may name its contact: ``contact_id`` / ``contactId``;
    ``contact.id`` (or ``contact.contact_id`` / ``contact.contactId``); and one level down,
    ``<object>.contact_id`` / ``<object>.contactId`` (``conversation.contact_id``)."""
    found = [data[key] for key in SUBJECT_ID_KEYS if data.get(key) is not None]
    for name, child in data.items():
        if isinstance(child, dict):
            keys = ("id", *SUBJECT_ID_KEYS) if name == "contact" else SUBJECT_ID_KEYS
            found += [child[key] for key in keys if child.get(key) is not None]
    return found
