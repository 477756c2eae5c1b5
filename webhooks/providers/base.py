"""What every provider module implements: verify the raw request, parse its envelope, interpret it.

A provider is one module in this package defining one ``WebhookProvider`` subclass. The view, the
event log and the task know providers only through this interface.
"""

import hashlib
import hmac
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from config.text_columns import text_column_problem
from config.timestamps import storable_utc
from webhooks.events import ContactEvent

REDACTED = "[redacted]"


class SignatureError(Exception):
    """The request is not provably from the provider. The message is safe to send back."""


class EnvelopeError(Exception):
    """The body is not an envelope we can store. The message is safe to send back (no payload values)."""


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
    # Keys whose values never describe the person, at the envelope's top level and inside its "data"
    # object. Redaction keeps these and replaces every other value: an allowlist fails safe when a
    # provider adds a field.
    kept_envelope_keys: ClassVar[frozenset[str]] = frozenset()
    kept_data_keys: ClassVar[frozenset[str]] = frozenset()
    # Kept data keys that name an actor, each with the width it is stored at: a redacted payload keeps
    # their values only as ``plain_id`` does, so the stored body says no more than the erasure record.
    actor_data_keys: ClassVar[Mapping[str, int]] = {}

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

    def subject_of_other_family(self, data: dict, read_id: Callable[[Any], str]) -> tuple[str, bool]:
        """``(external_id, subject_unreadable)`` for an event of a family we do not apply: the one contact
        it names wherever ``subject_id_candidates`` looks, each value read by ``read_id``. Naming none we
        can read (or two different ones), it is stored redacted: nothing could ever erase it later."""
        try:
            ids = {read_id(value) for value in subject_id_candidates(data)}
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

    def redact(self, payload: Any) -> Any:
        """Return the payload with every personal value replaced by ``REDACTED``, keys kept."""
        if not isinstance(payload, dict):
            return redact_values(payload)
        redacted = redact_except(payload, self.kept_envelope_keys)
        data = payload.get("data")
        if isinstance(data, dict):
            redacted["data"] = redact_except(data, self.kept_data_keys)
            for key, max_length in self.actor_data_keys.items():
                if data.get(key) is not None:
                    redacted["data"][key] = plain_id(data[key], max_length=max_length)
        return redacted

    def redacted_body(self, payload: Any) -> bytes:
        """The payload redacted, encoded as a stored body is (compact UTF-8 JSON): what every copy of a
        personal payload becomes, whether redacted before it is first saved or in place later."""
        return json.dumps(self.redact(payload), ensure_ascii=False, separators=(",", ":")).encode()

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

    # --- shared helpers ---------------------------------------------------------------------------
    def signed_sample_headers(self, body: bytes, *, now: float) -> dict[str, str]:
        """Headers that sign ``body`` with the first configured secret (for ``send_test_webhook``)."""
        raise NotImplementedError

    def fresh_sample(self, payload: dict, *, now: datetime) -> dict:
        """A fixture made new: a fresh event id and current times, so that it is not a duplicate."""
        return payload


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


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def any_signature_matches(candidates: Iterable[str], expected: Iterable[str]) -> bool:
    """Constant-time comparison of every candidate with every expected signature."""
    matched = False
    expected = list(expected)
    for candidate in candidates:
        for value in expected:
            # No early exit: the time taken does not tell which pair matched.
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    return matched


# Deeper than any provider's envelope; a limit keeps recursive redaction and rendering safe.
MAX_JSON_DEPTH = 32


def load_json_object(body: bytes) -> dict:
    """Parse a body into a dict that every later step can store, redact and render again."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except EnvelopeError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnvelopeError("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise EnvelopeError("body is not a JSON object")
    if _nesting_depth(payload) > MAX_JSON_DEPTH:
        raise EnvelopeError(f"body is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise EnvelopeError("body contains an unpaired Unicode surrogate") from None
    return payload


class _Unreadable:
    """What ``load_json_leniently`` reads in place of a value no column could store: it is no id and no
    time, and redaction replaces it even under a key that keeps its value."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE = _Unreadable()


def load_json_leniently(body: bytes) -> dict:
    """Parse a body into a dict as ``load_json_object`` does, reading ``UNREADABLE`` for each value that
    could not be stored (1e400, NaN, an integer past Python's 4,300 digits, a string holding a lone
    surrogate, anything nested deeper than ``MAX_JSON_DEPTH``; a surrogate in a key becomes U+FFFD).
    Still refused: a body that is not UTF-8 JSON text, or nested deeper than the parser itself reads
    (about 1,000 levels): neither its type nor its ids can be known."""
    try:
        payload = json.loads(
            body,
            parse_constant=lambda _name: UNREADABLE,
            parse_float=_float_or_unreadable,
            parse_int=_int_or_unreadable,
            object_pairs_hook=_storable_object,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EnvelopeError("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise EnvelopeError("body is not a JSON object")
    _cut_deeper_than(payload, MAX_JSON_DEPTH)
    return payload


def _float_or_unreadable(text: str) -> Any:
    value = float(text)
    return UNREADABLE if math.isinf(value) else value


def _int_or_unreadable(text: str) -> Any:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts
        return UNREADABLE


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _storable_object(pairs: list[tuple[str, Any]]) -> dict:
    return {
        "".join("\ufffd" if _has_surrogate(ch) else ch for ch in key): (
            UNREADABLE if isinstance(value, str) and _has_surrogate(value) else value
        )
        for key, value in pairs
    }


def _cut_deeper_than(payload: dict, max_depth: int) -> None:
    """Replace, in place, every object or list deeper than ``max_depth`` (the payload is level 1)."""
    pending = [(payload, 1)]
    while pending:
        container, depth = pending.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            child = container[key]
            if isinstance(child, dict | list):
                if depth + 1 > max_depth:
                    container[key] = UNREADABLE
                else:
                    pending.append((child, depth + 1))


def _refuse_constant(name: str):
    raise EnvelopeError(f"body contains {name}, which JSON does not allow")


def _finite_float(text: str) -> float:
    # 1e400 reads as infinity, which no JSON column takes and no JSON answer can render.
    value = float(text)
    if math.isinf(value):
        raise EnvelopeError("body contains a number too large to store")
    return value


def _nesting_depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_JSON_DEPTH:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def parse_timestamp(value: Any, *, field: str) -> datetime:
    """ISO-8601 to an aware datetime (UTC when the offset is missing)."""
    if not isinstance(value, str):
        raise EnvelopeError(f"'{field}' must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise EnvelopeError(f"'{field}' is not an ISO-8601 timestamp") from None
    storable = storable_utc(parsed)
    if storable is None:
        raise EnvelopeError(f"'{field}' is out of range")
    return storable


# The widths of WebhookEvent's id and type columns: longer values are refused with a 400 rather than
# failing at storage, which would answer 503 and have the provider retry in vain.
MAX_ID_LENGTH = 128
MAX_EVENT_TYPE_LENGTH = 100
# Actors are cut to the narrowest column that stores them (WebhookEvent.actor_id/actor_type,
# ErasureRecord.requested_by/requested_by_type), never refused: a deletion must erase whoever it names.
MAX_ACTOR_ID_LENGTH = 128
MAX_ACTOR_TYPE_LENGTH = 32
# Stored instead of an actor that is not a plain id (an object, a list, a boolean): its text could name a
# person, and it is kept in the append-only erasure log.
NOT_A_STRING_ID = "(not a string id)"


def as_id(value: Any, *, field: str) -> str:
    """Ids are stored as strings and never validated for shape (providers document several)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EnvelopeError(f"'{field}' must be a string or a number")
    text = str(value).strip()
    if not text:
        raise EnvelopeError(f"'{field}' must not be empty")
    return check_stored_text(text, field=field, max_length=MAX_ID_LENGTH)


def as_event_type(value: Any, *, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"'{field}' must be a non-empty string")
    return check_stored_text(value, field=field, max_length=MAX_EVENT_TYPE_LENGTH)


def actor_fields(actor_id: Any, actor_type: Any) -> dict[str, str]:
    """The ``ContactEvent`` actor arguments from whatever a payload says made the change: every provider
    builds them here, so that every event row and erasure record holds a plain id or the marker."""
    return {
        "actor_id": plain_id(actor_id, max_length=MAX_ACTOR_ID_LENGTH),
        "actor_type": plain_id(actor_type, max_length=MAX_ACTOR_TYPE_LENGTH),
    }


# What an id looks like in the providers' docs (``usr_321``, UUIDs, numbers): ASCII letters, digits and
# ``_ . : -``. No whitespace and no ``@``, so neither a name nor an email address ever passes for one.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]+")


def plain_id(value: Any, *, max_length: int) -> str:
    """A string or whole number as its text without control or format characters (NUL, escapes, bidi
    overrides), trimmed and cut to ``max_length``, when what is left is a plain id; '' for none or an
    empty string; ``NOT_A_STRING_ID`` for anything else (an object, a list, a name, an email address)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return NOT_A_STRING_ID
    text = "".join(ch for ch in str(value) if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    if text and not _PLAIN_ID.fullmatch(text):
        return NOT_A_STRING_ID
    return text[:max_length]


def check_stored_text(text: str, *, field: str, max_length: int) -> str:
    """A value stored in one of the event's text columns, or ``EnvelopeError`` saying why it cannot be."""
    if (problem := text_column_problem(text, max_length=max_length)) is not None:
        raise EnvelopeError(f"'{field}' {problem}")
    return text


def redact_values(value: Any) -> Any:
    """Keep the shape (keys, list lengths, nulls), replace every value with ``REDACTED``."""
    if isinstance(value, dict):
        return {key: redact_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_values(item) for item in value]
    if value is None:
        return None
    return REDACTED


def redact_except(mapping: dict, keep: frozenset[str]) -> dict:
    """Redact every value of ``mapping`` except the plain values (strings, numbers, booleans, null) of the
    keys in ``keep`` (an allowlist fails safe): an object or a list is redacted even there, since a kept
    key holds ids and times, not records (``{"id": ..., "name": ...}``), and so is ``UNREADABLE``."""
    return {
        key: value if key in keep and _is_json_scalar(value) else redact_values(value) for key, value in mapping.items()
    }


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)
