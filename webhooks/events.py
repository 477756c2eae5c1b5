"""The normalized contact shapes: what crosses from ``webhooks`` (and contact fetchers) to contacts.

Provider modules turn their payloads into a ``ContactEvent``; receivers answer with an ``Outcome``.
Contact fetchers (``settings.CONTACT_FETCHERS``) return a ``ContactSnapshot``. Nothing here knows HTTP or
any provider's payload layout.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config.ops.failures import DescribableError

# The contact fields an event may set, in the order people read them: the vocabulary of the contract
# between the apps, so it lives here, in the bridge; contacts.models syncs exactly these
# (``SYNCED_FIELDS``). A provider that names another field has a bug, and building the event says so
# instead of the value vanishing downstream (a fetcher's snapshot keeps only these).
CONTACT_FIELDS = (
    *("name", "phone", "email", "avatar_url", "source", "tags", "custom_fields", "assigned_to"),
    *("status_id", "status", "sub_group_id", "can_sms", "can_email", "can_call"),
    *("last_sms_in_at", "last_sms_out_at", "last_call_at", "remote_created_at"),
)
_CONTACT_FIELD_SET = frozenset(CONTACT_FIELDS)


class UnknownContactFields(TypeError):
    """A provider named fields that are not ``CONTACT_FIELDS``: a programming error. Its message
    holds field names only, and is never stored (processing records an error's class and place)."""


def check_field_names(*names: str) -> None:
    if unknown := set(names) - _CONTACT_FIELD_SET:
        raise UnknownContactFields(f"not contact fields: {', '.join(sorted(unknown))}")


class ContactEventKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    STATUS_CHANGED = "status_changed"
    SUB_GROUP_CHANGED = "sub_group_changed"


@dataclass(frozen=True, kw_only=True)
class ContactEvent:
    """One change to one contact at one provider account.

    ``fields`` holds the provider-owned values the event sets, under the contact's own field names
    (``CONTACT_FIELDS``; any other name raises ``UnknownContactFields``). ``previous`` holds the values
    the provider says the fields had before (for drift detection), when it says so.

    ``changed_at`` orders changes (sync rule 3); ``dedupe_key`` (the delivery's, as stored) breaks equal
    times so that every arrival order converges.
    """

    provider: str
    account_id: str
    external_id: str
    kind: ContactEventKind
    changed_at: datetime
    dedupe_key: str
    fields: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    # Fields the event says changed but whose new value the provider could not read (a Timely change
    # without ``after``): named in the outcome as skipped, like values that cannot be stored.
    unreadable: tuple[str, ...] = ()
    # True when the event carries the contact's whole state (a Timely ``created``); an update for an
    # unknown contact creates a partial one flagged ``needs_refresh``.
    complete: bool = False
    # True for "something changed, look it up" signals (FPT) that carry no values.
    needs_refresh: bool = False
    # Deletions are final at some providers (Timely) and soft at others (FPT: reactivation follows).
    deletion_is_final: bool = True
    # Who made the change at the provider: plain ids only (``webhooks.providers.base.actor_fields``).
    actor_id: str = ""
    actor_type: str = ""
    deleted_at: datetime | None = None
    event_id: str = ""  # the provider's own id of the event, when it has one (the erasure record names it)

    def __post_init__(self):
        check_field_names(*self.fields, *self.previous, *self.unreadable)


@dataclass(frozen=True, kw_only=True)
class ContactSnapshot:
    """A contact's current state as a contact fetcher looked it up at the provider.

    ``fields`` uses the contact's own field names (as ``ContactEvent.fields``), already normalized from
    the provider's shapes by the fetcher; fields left out are left alone. ``as_of`` is the time the
    state is valid at (the provider's ``updated_at``, else when it was read): it orders the snapshot
    against events by sync rule 3. Fetchers are configured in ``settings.CONTACT_FETCHERS``.
    """

    fields: dict[str, Any]
    as_of: datetime

    def __post_init__(self):
        # A fetcher is outside code reading an outside API, whose state may hold more than ours (``firstName``,
        # our local ``notes``): only CONTACT_FIELDS cross, so the event built from it is valid.
        object.__setattr__(
            self, "fields", {name: value for name, value in self.fields.items() if name in _CONTACT_FIELD_SET}
        )


class OutcomeStatus(enum.StrEnum):
    PROCESSED = "processed"
    IGNORED = "ignored"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a receiver did with an event. ``reason`` is shown to staff: ids and field names only."""

    status: OutcomeStatus
    reason: str = ""
    # Field names the receiver changed (names only, never values).
    changed: tuple[str, ...] = ()
    # Field names whose ``previous`` value differed from ours.
    drift: tuple[str, ...] = ()
    # True when the contact is erased: the event's stored payload must be redacted too.
    subject_erased: bool = False


class ProcessingError(DescribableError):
    """An error whose message is safe to store and show: ids and field names, never personal values.

    Any other exception is recorded by class and code location only, since its message may quote data.
    """


class TransientError(ProcessingError):
    """A failure expected to pass by itself (the provider's API is down or rate-limits us).

    Processing retries it with backoff, like a lost database connection; its message is stored, so it
    names ids and causes only.
    """


class EventFailed(Exception):
    """Raised by a ``contact_events`` receiver when the event at ``index`` of the batch could not be
    applied: the batch is re-run without it, and ``error`` (the original) is recorded on that event."""

    def __init__(self, index: int, error: Exception):
        super().__init__(f"event {index} of the batch failed: {type(error).__qualname__}")
        self.index, self.error = index, error


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One stored delivery about a contact, as staff read it on the contact's page (``contact_timeline``).

    Which fields changed, and, only when the page asked for them (``with_values``: a contact that is not
    erased), ``values``: per changed field, its value before (None when the event did not say) and after,
    as the provider sent them, as text.
    """

    event_pk: int
    event_type: str
    occurred_at: datetime | None
    received_at: datetime
    status: str
    status_reason: str = ""
    changed_fields: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()
    actor_id: str = ""
    actor_type: str = ""
    admin_url: str = ""
    values: tuple[tuple[str, str | None, str], ...] = ()
    # The status, the reason and the actor type as the reader reads them (translated; the fields above are
    # stored values, in English).
    status_label: str = ""
    reason_label: str = ""
    actor_type_label: str = ""


@dataclass(frozen=True, kw_only=True)
class StoredPayload:
    """One stored delivery about a contact with its payload, for that person's own export (``subject_payloads``).

    ``payload`` is the body as stored: None once retention purged it; redacted (no personal data left) once
    the contact was erased, which ``redacted_at`` says.
    """

    event_pk: int
    provider: str
    event_type: str
    event_id: str
    occurred_at: datetime | None
    received_at: datetime
    processed_at: datetime | None
    status: str
    redacted_at: datetime | None
    payload_purged_at: datetime | None
    payload: Any
