"""Storing an accepted delivery: durable first (sync rule 1), one row per dedupe key (rule 2)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DataError, IntegrityError, transaction
from django.utils import timezone

from config.db.insert import initial_columns as initial_row_columns
from config.db.insert import insert_returning_pk, prepared_values
from config.db.locks import lock_subjects
from config.db.sqlite.writers import writer_turn
from config.values.erased_ids import stored_id
from webhooks.models import ErasedSubject, WebhookEvent
from webhooks.providers.base import Delivery, WebhookProvider
from webhooks.rebuild import rebuilt_columns

logger = logging.getLogger(__name__)

DEDUPE = ("provider", "dedupe_key")  # the unique key that decides duplicates
SUBJECT = ("provider", "account_id", "external_id")
# Inserted only if its contact is not erased (checked inside the INSERT itself).
ERASED_GUARD = {"unless_in": ErasedSubject, "unless_fields": SUBJECT}


@dataclass(frozen=True)
class StoredDelivery:
    event_pk: int
    duplicate: bool


def store_delivery(
    *,
    provider: WebhookProvider,
    delivery: Delivery,
    body: bytes,
    headers: dict[str, str],
    signature_form: str,
    remote_addr: str | None,
) -> StoredDelivery:
    """Insert the event (the unique key decides duplicates, also under concurrency); inline, apply it in the
    same transaction, so a delivery is one commit. Raises ``DatabaseError`` when it cannot be stored."""
    # Everything but the statements first: on SQLite an inline delivery's transaction holds the write lock.
    event = event_columns(provider=provider, delivery=delivery, body=body, headers=headers,
                          signature_form=signature_form, remote_addr=remote_addr)  # fmt: skip
    if settings.WEBHOOK_PROCESSING != "inline":
        return insert_delivery(provider, delivery, event, apply=None)
    from webhooks.inline import QuickApplyFailed, StoredRowNeeded

    # One transaction (webhooks.inline): the event applied, then inserted with its outcome; or, when that
    # cannot be, inserted and then applied. Nothing is answered 2xx before it commits, and a database lost
    # meanwhile answers 503 (not stored: the provider retries). On a SQLite file, writers take turns at the
    # operating system first (config.db.sqlite.writers).
    try:
        if is_usual(delivery, event):
            try:
                return insert_applied(delivery, event)
            except StoredRowNeeded:
                pass  # rolled back whole, the contact's write with it: inserted first, then applied
        with writer_turn(), transaction.atomic():
            return insert_delivery(provider, delivery, dict(event), apply="quick")
    except QuickApplyFailed:
        pass
    # The apply failed: everything was rolled back. Stored again, and applied under a savepoint, which
    # records the failure on the event (or leaves it due): a failed apply never costs the stored event.
    with writer_turn(), transaction.atomic():
        return insert_delivery(provider, delivery, dict(event), apply="isolated")


def event_columns(
    *,
    provider: WebhookProvider,
    delivery: Delivery,
    body: bytes,
    headers: dict[str, str],
    signature_form: str,
    remote_addr: str | None,
) -> dict:
    now = timezone.now()
    # Ids are stored in plain form, any other as its keyed digest from the start (config.values.erased_ids): the
    # same everywhere, so duplicates and an erased contact are recognised without the text.
    event = {
        "provider": provider.name,
        "dedupe_key": stored_id(delivery.dedupe_key),
        "event_id": stored_id(delivery.event_id),
        "event_type": delivery.event_type,
        "account_id": stored_id(delivery.account_id),
        "external_id": stored_id(delivery.external_id),
        "occurred_at": delivery.occurred_at,
        "received_at": now,
        "next_attempt_at": now,  # due at once
        "erasure": provider.is_erasure(delivery),
        "body": body,
        "headers": headers,
        "signature_form": signature_form,
        "remote_addr": remote_addr,
        "redacted_at": None,
    }
    if provider.redacted_before_saving(delivery):
        # A deletion's personal data is never saved, not even once.
        rebuild_before_saving(provider, event, delivery, now)
    return event


def insert_delivery(provider: WebhookProvider, delivery: Delivery, event: dict, *, apply: str | None) -> StoredDelivery:
    """Store ``event`` (its columns); ``apply`` inline (``quick`` or ``isolated``: ``apply_just_stored``)."""
    # A late event of any type about an erased contact is committed only in its redacted form: as received,
    # it is inserted only if its contact is not erased, checked inside the INSERT itself.
    unless_erased = is_usual(delivery, event)
    if apply is not None:
        # Inline, the contact's lock before the INSERT, as on the apply-first path and for every writer: a
        # copy of this delivery applied first waits here, not in a cycle with this one's uncommitted key.
        lock_subjects([(event["provider"], event["account_id"], event["external_id"])])
    # The INSERT is the whole delivery: one statement (with workers, it commits on its own; on PostgreSQL
    # its trigger wakes the workers in the same transaction). The stored event is the work.
    event_pk = insert_event(event, unless_erased=unless_erased)
    if event_pk is None:
        # A duplicate, or (rarely) an event about an erased contact: then stored redacted, two statements more.
        first = stored_event_pk(provider.name, event["dedupe_key"])
        if first is not None:
            return StoredDelivery(event_pk=first, duplicate=True)
        if unless_erased and contact_erased(event):
            rebuild_before_saving(provider, event, delivery, event["received_at"])
            event_pk = insert_event(event, unless_erased=False)
        if event_pk is None:
            first = stored_event_pk(provider.name, event["dedupe_key"])
            if first is None:  # the conflicting row is gone again (deleted meanwhile): not stored, 503
                raise IntegrityError("webhook event conflicted with a row that no longer exists")
            return StoredDelivery(event_pk=first, duplicate=True)
    if apply is not None:
        from webhooks.inline import apply_just_stored

        apply_just_stored(stored_instance(event_pk, event), quick=apply == "quick")
    return StoredDelivery(event_pk=event_pk, duplicate=False)


def is_usual(delivery: Delivery, event: dict) -> bool:
    """Stored as received and about a contact: inline, applied before it is inserted (``insert_applied``);
    in any mode, inserted only if that contact is not erased."""
    return event["redacted_at"] is None and bool(delivery.external_id)


def insert_applied(delivery: Delivery, event: dict) -> StoredDelivery:
    """Inline, the usual delivery: applied (``webhooks.inline.apply_before_storing``), then inserted with its
    outcome, unless it is a duplicate or its contact is erased, which raises ``StoredRowNeeded`` (the
    caller rolls back the contact's write with the rest). What needs no lock comes first (on SQLite the
    transaction holds the file's write lock): the provider's reading (of the payload the request parsed:
    the event's body, unchanged, is not parsed again), the columns' conversion; and the
    delivery's log line and counts come after the writer's turn (what the apply left for after the commit,
    a contact's look-up, still runs in it: Django runs it as the transaction ends)."""
    from webhooks.inline import QuickApplyFailed, StoredRowNeeded, apply_before_storing, finished
    from webhooks.processing import OUTCOME_FIELDS, reading

    instance = WebhookEvent(**event)
    provider_reading = reading(instance, payload=delivery.payload)
    prepared = prepared_values(WebhookEvent, event)
    with writer_turn(), transaction.atomic():
        apply_before_storing(instance, provider_reading)
        outcome = {name: getattr(instance, name) for name in OUTCOME_FIELDS}
        try:
            event_pk = insert_event(outcome, unless_erased=True, prepared=prepared)
        except (DataError, IntegrityError) as exc:
            # Refused for a value of its outcome (a lost connection is not caught: 503, the provider
            # retries): stored again without it, and applied the isolating way, which records the failure.
            raise QuickApplyFailed from exc
        if event_pk is None:
            raise StoredRowNeeded
    instance.pk = event_pk
    finished(instance)
    return StoredDelivery(event_pk=event_pk, duplicate=False)


def rebuild_before_saving(provider: WebhookProvider, event: dict, delivery: Delivery, now) -> None:
    """The event as an erased contact's copy is stored: rebuilt from what its provider declares may
    survive (``webhooks.rebuild``)."""
    event.update(rebuilt_columns(provider, event, payload=delivery.payload), redacted_at=now)


def stored_event_pk(provider: str, dedupe_key: str) -> int | None:
    return WebhookEvent.objects.filter(provider=provider, dedupe_key=dedupe_key).values_list("pk", flat=True).first()


def contact_erased(event: dict) -> bool:
    subject = {name: event[name] for name in ("provider", "account_id", "external_id")}
    return ErasedSubject.objects.filter(**subject).exists()


def insert_event(values: dict, *, unless_erased: bool, prepared: dict | None = None) -> int | None:
    """One ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (config.db.insert) of ``values`` and the columns
    already ``prepared`` (``prepared_values``): the new event's id, or None for a duplicate and,
    ``unless_erased``, for an event whose contact is erased (``ErasedSubject``), which is not inserted."""
    guard = ERASED_GUARD if unless_erased else {}
    return insert_returning_pk(WebhookEvent, values, conflict=DEDUPE, prepared=prepared, **guard)


def initial_columns(given: tuple[str, ...]) -> dict:
    """Every column a delivery does not set (``given``), at its model default: status ``received``, no
    attempts, no outcome yet."""
    return initial_row_columns(WebhookEvent, given)


def stored_instance(event_pk: int, values: dict) -> WebhookEvent:
    """The event just inserted, as the database holds it, without reading it back: what the delivery set
    (``values``) and every other column at its initial value (``initial_columns``)."""
    initial = {name: value.copy() if isinstance(value, list | dict) else value
               for name, value in initial_columns(tuple(values)).items()}  # fmt: skip
    columns = {**values, **initial, "id": event_pk}
    fields = WebhookEvent._meta.concrete_fields
    return WebhookEvent.from_db(DEFAULT_DB_ALIAS, [f.attname for f in fields], [columns[f.attname] for f in fields])
