"""Contact business logic: applying normalized events (sync rules 2–6) and erasing people (LGPD).

Callers (signal receivers, admin actions, commands) stay thin and call these.
"""

import hashlib
import hmac
import json
import logging
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from config.bulk import bulk_update_by_pk
from config.failures import backoff_seconds, error_class_name
from config.locks import lock_subjects, subjects_filter
from config.metrics import record_erasure
from contacts.models import PERSONAL_FIELDS, SYNCED_FIELDS, Contact, DataSubjectRequest, ErasureRecord
from contacts.normalize import SkippedValue, normalize_email, normalize_field, normalize_phone
from webhooks.events import ContactEvent, ContactEventKind, ContactSnapshot, EventFailed, Outcome, OutcomeStatus
from webhooks.signals import subject_erased, subject_reactivated

logger = logging.getLogger(__name__)

DELETION_VERSION_KEY = "_deleted"
# A label is applied only with the value it names (an event sets both, the value first).
LABELS = {"status": "status_id"}
# The newest "something changed, look it up" signal: a lookup older than it leaves needs_refresh set.
REFRESH_VERSION_KEY = "_refresh"
# A snapshot as of T already includes every change made at T, so it wins ties with events ("~" sorts
# after the letters and digits of any dedupe key).
SNAPSHOT_TIEBREAK = "~snapshot"
REFRESH_BACKOFF_CAP_SECONDS = 6 * 3600
# Arbitrary constant naming the advisory lock that serializes writers of the erasure log chain.
ERASURE_CHAIN_LOCK_ID = 7_204_311_882
# What is left of free text about a person once it is erased (a refused request still says it was refused).
ERASED_TEXT = "[erased]"


def version_stamp(changed_at: datetime, tiebreak: str) -> list[str]:
    """A sortable [time, tiebreak] pair; equal times fall back to the dedupe key (rule 3)."""
    return [changed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), tiebreak]


def apply_contact_events(*, events: list[ContactEvent]) -> list[Outcome]:
    """Apply a batch of events in the order given; one outcome per event.

    Call inside a transaction that holds the contacts' locks (``config.locks``). The batch's contacts are
    read in one query (locked), every event is applied to them in memory, then one INSERT writes the new
    contacts and one UPDATE the changed ones; a deletion erases at once (its chain record is appended at
    the end of the batch). Raises ``EventFailed`` naming the first event that could not be applied, so
    that the caller can re-run the batch without it."""
    batch = ContactBatch(event_subject(event) for event in events)
    outcomes = []
    with erasure_records_appended_at_the_end():
        for index, event in enumerate(events):
            try:
                outcomes.append(batch.apply(event))
            except Exception as exc:
                # `from None`: the original stays on the failure (its class and location are recorded).
                raise EventFailed(index, exc) from None
        batch.write()
    return outcomes


def apply_contact_event(*, event: ContactEvent) -> Outcome:
    """One event alone (a batch of one). Call inside a transaction holding the contact's lock."""
    try:
        return apply_contact_events(events=[event])[0]
    except EventFailed as failure:
        raise failure.error from None


def event_subject(event: ContactEvent) -> tuple[str, str, str]:
    return event.provider, event.account_id, event.external_id


# What a batch writes back for a changed contact: every column but the key and the creation time.
WRITTEN_FIELDS = tuple(
    field.name for field in Contact._meta.concrete_fields if not field.primary_key and field.name != "created_at"
)


class ContactBatch:
    """The contacts of one batch of events, read once (locked) and written back once."""

    def __init__(self, subjects):
        subjects = set(subjects)
        locked = Contact.objects.select_for_update().filter(subjects_filter(subjects)).order_by("pk")
        self.contacts = {(c.provider, c.account_id, c.external_id): c for c in locked}
        self.new: dict[tuple, Contact] = {}  # not in the database yet, in the order first seen
        self.changed: set[tuple] = set()
        self.look_up: set[tuple] = set()

    def apply(self, event: ContactEvent) -> Outcome:
        subject = event_subject(event)
        if event.kind == ContactEventKind.DELETED:
            outcome = self._apply_deletion(event, subject)
        else:
            contact = self.contacts.get(subject)
            if contact is None:
                contact = Contact(
                    provider=event.provider,
                    account_id=event.account_id,
                    external_id=event.external_id,
                    needs_refresh=not event.complete,
                )
                self.contacts[subject] = self.new[subject] = contact
            apply = _event_for_erased_contact if contact.is_erased else _apply_fields
            outcome = apply(contact, event)
            if event.needs_refresh:
                self.look_up.add(subject)
        self.changed.add(subject)
        return outcome

    def _apply_deletion(self, event: ContactEvent, subject: tuple) -> Outcome:
        contact = self.contacts.get(subject)
        if contact is None:
            # Unknown contact: a tombstone still stops late events from resurrecting it.
            contact = self.contacts[subject] = Contact(
                provider=event.provider, account_id=event.account_id, external_id=event.external_id
            )
            contact.save(force_insert=True)
        elif subject in self.new:
            # Created earlier in this batch: erasing needs its row (the record and the admin log name it).
            contact.save(force_insert=True)
            del self.new[subject]
        outcome = _apply_deletion(contact, event)
        self.look_up.add(subject)
        return outcome

    def write(self) -> None:
        now = timezone.now()
        if self.new:
            Contact.objects.bulk_create(list(self.new.values()))
        changed = [self.contacts[subject] for subject in self.changed if subject not in self.new]
        for contact in changed:
            contact.updated_at = now
        bulk_update_by_pk(changed, WRITTEN_FIELDS)
        for subject in self.look_up:
            _refresh_after_commit(self.contacts[subject])


def _apply_fields(contact: Contact, event: ContactEvent) -> Outcome:
    stamp = version_stamp(event.changed_at, event.tiebreak)
    versions = dict(contact.field_versions)
    # A contact reactivated after a (soft) deletion takes nothing from before that deletion.
    floor = versions.get(DELETION_VERSION_KEY)
    applied, stale, drift = [], [], []
    # A value the field cannot hold is skipped and named; the rest of the event applies.
    skipped = [name for name in event.unreadable if name in SYNCED_FIELDS]
    for name, raw in event.fields.items():
        if name not in SYNCED_FIELDS:
            continue
        try:
            if LABELS.get(name) in skipped:
                raise SkippedValue(f"{name} labels a value that was skipped")
            value = normalize_field(name, raw)
        except SkippedValue:
            skipped.append(name)
            continue
        current = versions.get(name)
        if (current is not None and stamp <= current) or (floor is not None and stamp <= floor):
            stale.append(name)
            continue
        if name in event.previous and contact.pk is not None and _differs(name, event.previous[name], contact):
            drift.append(name)
        setattr(contact, name, value)
        versions[name] = stamp
        applied.append(name)

    if event.complete:
        # Whole state known now: fields it carried stale are stale because we hold newer values.
        contact.needs_refresh = False
    if event.needs_refresh:
        contact.needs_refresh = True
        versions[REFRESH_VERSION_KEY] = max(stamp, versions.get(REFRESH_VERSION_KEY, stamp))
    contact.field_versions = versions
    times = [stamp_time for stamp_time, _key in (v for k, v in versions.items() if not k.startswith("_"))]
    if times:
        contact.remote_updated_at = datetime.strptime(max(times), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

    reasons = []
    if skipped:
        reasons.append(f"values that cannot be stored skipped: {', '.join(sorted(set(skipped)))}")
    if stale:
        reasons.append(f"stale fields skipped: {', '.join(sorted(stale))}")
    if drift:
        reasons.append(f"drift in: {', '.join(sorted(drift))}")
    if event.needs_refresh and not applied:
        reasons.append("marked needs_refresh")
    return Outcome(
        status=OutcomeStatus.PROCESSED,
        reason="; ".join(reasons),
        changed=tuple(sorted(applied)),
        drift=tuple(sorted(drift)),
    )


def _differs(name: str, previous, contact: Contact) -> bool:
    """Whether the provider's ``before`` differs from our value; one we could never hold always does."""
    try:
        return normalize_field(name, previous) != getattr(contact, name)
    except SkippedValue:
        return True


def _event_for_erased_contact(contact: Contact, event: ContactEvent) -> Outcome:
    """Nothing an event carries reaches a tombstone. At providers whose deletions are soft, a newer
    "look it up" signal means the contact was reactivated: the tombstone is marked needs_refresh, and
    only a lookup of its current state (``refresh_contact``) may fill it again."""
    ignored = partial(Outcome, status=OutcomeStatus.IGNORED, subject_erased=True)
    if event.deletion_is_final:
        return ignored(reason="contact was erased")
    stamp = version_stamp(event.changed_at, event.tiebreak)
    deleted = contact.field_versions.get(DELETION_VERSION_KEY)
    if deleted is not None and stamp <= deleted:
        return ignored(reason="older than the contact's deletion")
    if not event.needs_refresh:
        return ignored(reason="contact was erased; only a reactivation (look-up signal) is applied")
    if erased_on_request(contact):
        return ignored(reason="contact was erased on a data-subject request")
    versions = dict(contact.field_versions)
    versions[REFRESH_VERSION_KEY] = max(stamp, versions.get(REFRESH_VERSION_KEY, stamp))
    contact.needs_refresh = True
    contact.field_versions = versions
    return Outcome(
        status=OutcomeStatus.PROCESSED, reason="reactivated upstream: marked needs_refresh", subject_erased=True
    )


def erased_on_request(contact: Contact) -> bool:
    """True when the contact's last erasure was a data-subject request (admin, command), not the
    provider's own deletion: such an erasure is final whatever the provider does later."""
    last = contact.erasures.order_by("-sequence").only("event_id").first()
    return last is None or not last.event_id


def _apply_deletion(contact: Contact, event: ContactEvent) -> Outcome:
    """Erase the contact (its row exists and is locked), unless it already is or a newer reactivation
    undid this deletion."""
    stamp = version_stamp(event.changed_at, event.tiebreak)
    # Erased means empty: the database refuses a tombstone holding a personal value.
    if contact.is_erased:
        previous = contact.field_versions.get(DELETION_VERSION_KEY)
        if previous is None or stamp > previous:
            contact.field_versions, contact.needs_refresh = _tombstone_versions(contact.field_versions, stamp)
        # Still redact whatever arrived about the contact since it was erased.
        return Outcome(status=OutcomeStatus.IGNORED, reason="contact already erased", subject_erased=True)
    previous = contact.field_versions.get(DELETION_VERSION_KEY)
    if previous is not None and stamp <= previous:
        # Reactivated since a newer deletion (soft deletes): this older one was already undone.
        return Outcome(status=OutcomeStatus.IGNORED, reason="older than the contact's last deletion")
    erase_contact(
        contact=contact,
        requested_by=event.actor_id,
        requested_by_type=event.actor_type or event.provider,
        reason=f"{event.provider}: contact deleted at the source",
        deleted_at=event.deleted_at,
        event_id=event.event_ref or event.tiebreak,
        deletion_stamp=stamp,
        row_locked=True,
    )
    # A reactivation newer than this deletion arrived first: the batch looks the contact up again.
    return Outcome(status=OutcomeStatus.PROCESSED, reason="contact erased", changed=("erased_at",), subject_erased=True)


def _tombstone_versions(versions: dict, deletion: list[str] | None) -> tuple[dict, bool]:
    """A tombstone's versions and needs_refresh: the deletion's stamp, plus a reactivation signal
    newer than it (arrived first), so that every arrival order leaves the same tombstone."""
    if deletion is None:
        return {}, False
    tombstone = {DELETION_VERSION_KEY: deletion}
    requested = versions.get(REFRESH_VERSION_KEY)
    if requested is not None and requested > deletion:
        tombstone[REFRESH_VERSION_KEY] = requested
        return tombstone, True
    return tombstone, False


def fingerprint(kind: str, value: str) -> str:
    """Keyed HMAC-SHA256 of a normalized email or phone, or '' when no key is configured.

    Never a plain hash: without the key (kept outside the database) a fingerprint cannot be tested
    against guesses.
    """
    key = settings.ERASURE_FINGERPRINT_KEY
    if not key or not value:
        return ""
    normalized = normalize_email(value).lower() if kind == "email" else normalize_phone(value)
    if kind == "phone" and normalized and not normalized.startswith("+"):
        # Unreadable as a number: compare its digits, so spacing and punctuation still do not matter.
        normalized = "".join(ch for ch in normalized if ch.isdigit())
    if not normalized:
        return ""
    return hmac.new(key.encode(), f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


class ReasonQuotesPersonalData(ValueError):
    """The reason given for an erasure quotes the person's own data, which the log must never hold."""


def check_reason(*, contact: Contact, reason: str) -> None:
    """Refuse a reason typed by staff that quotes the contact's name, email or phone: the log keeps
    reasons forever and must hold no personal data."""
    if not reason.strip():
        raise ValueError("a reason is required")
    if quoted := personal_data_quoted(contact=contact, text=reason):
        raise ReasonQuotesPersonalData(
            f"the reason quotes the contact's {', '.join(quoted)}; the erasure log must hold no personal data"
        )


def personal_data_quoted(*, contact: Contact, text: str) -> list[str]:
    """Which of the contact's name, email and phone a text typed by staff quotes (empty: none)."""
    folded = text.casefold()
    quoted = []
    name_words = [word for word in re.findall(r"\w+", contact.name.casefold()) if len(word) >= 3]
    if any(re.search(rf"\b{re.escape(word)}\b", folded) for word in name_words):
        quoted.append("name")
    email = contact.email.strip().casefold()
    local_part = email.split("@")[0]
    if email and (email in folded or (len(local_part) >= 3 and local_part in re.findall(r"[\w.+-]+", folded))):
        quoted.append("email")
    phone_digits = re.sub(r"\D", "", contact.phone)
    # The last 8 digits identify a phone however the text writes it (spaces, dashes, country code).
    if len(phone_digits) >= 8 and phone_digits[-8:] in re.sub(r"\D", "", text):
        quoted.append("phone")
    return quoted


class AlreadyErased(Exception):
    """The contact holds no personal data any more: a second record would only repeat the first."""


def erase_on_request(*, contact: Contact, requested_by: str, requested_by_type: str, reason: str) -> ErasureRecord:
    """A data-subject request answered by our staff (admin action, ``erase_contact`` command).

    The reason is checked first: unlike a provider's, it is typed by a person and could quote the subject.
    """
    with transaction.atomic():
        # The contact's lock first, as every writer of it (config.locks), then its row: a deletion
        # webhook may have erased the contact since staff picked it.
        lock_subjects([(contact.provider, contact.account_id, contact.external_id)])
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        if contact.is_erased:
            raise AlreadyErased(f"contact #{contact.pk} was already erased")
        check_reason(contact=contact, reason=reason)
        return erase_contact(
            contact=contact, requested_by=requested_by, requested_by_type=requested_by_type, reason=reason.strip()
        )


def erase_contact(
    *,
    contact: Contact,
    requested_by: str,
    requested_by_type: str,
    reason: str,
    deleted_at: datetime | None = None,
    event_id: str = "",
    deletion_stamp: list[str] | None = None,
    row_locked: bool = False,
) -> ErasureRecord:
    """Erase one person's data everywhere we hold it and append the record to the erasure log.

    The contact row stays as a tombstone (provider, account, external id, erased_at, needs_refresh).
    ``contact`` may be stale: its row is read again under a lock, unless ``row_locked`` says the caller's
    open transaction has just read it ``FOR UPDATE`` (a webhook's deletion); that instance is then erased
    in place and left as the tombstone.
    """
    # No savepoint when a caller's transaction is open (a webhook's deletion): a failure here fails that
    # whole transaction anyway, and a savepoint is two more round trips (docs/performance.md).
    with transaction.atomic(savepoint=False):
        if not row_locked:
            contact = Contact.objects.select_for_update().get(pk=contact.pk)
        erased_fields = contact.personal_fields_held()
        email_fingerprint = fingerprint("email", contact.email)
        phone_fingerprint = fingerprint("phone", contact.phone)
        now = timezone.now()

        for field in Contact._meta.concrete_fields:
            if field.name in PERSONAL_FIELDS:
                setattr(contact, field.name, field.get_default())
        previous_deletion = contact.field_versions.get(DELETION_VERSION_KEY)
        stamps = [s for s in (previous_deletion, deletion_stamp) if s is not None]
        contact.field_versions, contact.needs_refresh = _tombstone_versions(
            contact.field_versions, max(stamps) if stamps else None
        )
        contact.erased_at = now
        contact.refresh_attempts, contact.refresh_due_at = 0, None
        contact.save()
        # The person's requests keep their ids, dates and outcome; a refusal's free text could describe them.
        DataSubjectRequest.objects.filter(contacts=contact).exclude(refusal_reason__in=["", ERASED_TEXT]).update(
            refusal_reason=ERASED_TEXT, updated_at=now
        )

        redacted_events = sum(
            response
            for _receiver, response in subject_erased.send(
                sender=Contact,
                provider=contact.provider,
                account_id=contact.account_id,
                external_id=contact.external_id,
            )
            if isinstance(response, int)
        )
        _scrub_admin_log(contact)
        record = _append_erasure_record(
            provider=contact.provider,
            account_id=contact.account_id,
            external_id=contact.external_id,
            contact=contact,
            event_id=event_id,
            requested_by=requested_by,
            requested_by_type=requested_by_type,
            deleted_at=deleted_at,
            erased_at=now,
            reason=reason,
            erased_fields=erased_fields,
            redacted_events=redacted_events,
            email_fingerprint=email_fingerprint,
            phone_fingerprint=phone_fingerprint,
        )
    # Said and counted once it holds: inside a webhook's transaction the erasure commits only with the event
    # (and a batch numbers its records at its end: the sequence is read when this runs).
    transaction.on_commit(partial(record_erasure, contact.provider))
    contact_pk, field_count = contact.pk, len(erased_fields)
    transaction.on_commit(
        lambda: logger.info(
            "erased contact %s (%s fields, %s payloads redacted), erasure record %s",
            contact_pk,
            field_count,
            redacted_events,
            record.sequence,
        )
    )
    return record


def _scrub_admin_log(contact: Contact) -> None:
    """Admin history rows name the object by its str() at the time: rewrite them to the tombstone's.

    Their change messages are Django's JSON (field names, and the str() of related objects); anything
    else there is free text that may quote the person and is replaced as a whole.
    """
    content_type = ContentType.objects.get_for_model(Contact)
    entries = LogEntry.objects.filter(content_type=content_type, object_id=str(contact.pk))
    tombstone = str(contact)[:200]
    for entry in entries.only("pk", "change_message"):
        LogEntry.objects.filter(pk=entry.pk).update(
            object_repr=tombstone, change_message=_scrub_change_message(entry.change_message)
        )


def _scrub_change_message(message: str) -> str:
    if not message:
        return message
    try:
        parts = json.loads(message)
    except ValueError:
        return json.dumps([{"changed": {"fields": ["(erased)"]}}])
    if not isinstance(parts, list):
        return json.dumps([{"changed": {"fields": ["(erased)"]}}])
    scrubbed = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        clean = {}
        for action, detail in part.items():
            if isinstance(detail, dict):
                # "name" is a model's verbose name, "fields" are field labels; "object" names a person.
                detail = {k: (v if k in ("name", "fields") else "(erased)") for k, v in detail.items()}
            clean[action] = detail
        scrubbed.append(clean)
    return json.dumps(scrubbed)


# Records of the erasures of the current batch, appended to the chain when the batch ends (None: at once).
_deferred_records: ContextVar[list[ErasureRecord] | None] = ContextVar("deferred_erasure_records", default=None)


@contextmanager
def erasure_records_appended_at_the_end():
    """Append the erasure records of what runs inside to the chain at its end, in one go.

    The chain's writers are serialized by a lock held until commit; a worker's batch that took it at its
    first erasure would hold it for the whole batch, and with 1% deletions nearly every batch would wait
    for the one before. Taken at the end, it covers the append, the outcomes' write and the commit."""
    records: list[ErasureRecord] = []
    token = _deferred_records.set(records)
    try:
        yield
    finally:
        _deferred_records.reset(token)
    if records:
        _append_to_chain(records)


def _append_erasure_record(**values) -> ErasureRecord:
    record = ErasureRecord(**values)
    deferred = _deferred_records.get()
    if deferred is not None:
        deferred.append(record)
    else:
        _append_to_chain([record])
    return record


def _append_to_chain(records: list[ErasureRecord]) -> None:
    """Append to the hash chain. Writers are serialized so that the chain never forks."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Raw SQL: the ORM has no advisory locks.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ERASURE_CHAIN_LOCK_ID])
    last = ErasureRecord.objects.order_by("-sequence").only("sequence", "hash").first()
    sequence, prev_hash = (last.sequence, last.hash) if last else (0, ErasureRecord.GENESIS_HASH)
    for record in records:
        sequence += 1
        record.sequence, record.prev_hash = sequence, prev_hash
        record.hash = prev_hash = record.compute_hash()
        record.save(force_insert=True)


# --- Looking contacts up again (pluggable fetchers, sync rule 9) ---------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    """What one look-up did: ``refreshed``, ``skipped`` or ``failed``; ``retry_in`` seconds when a failed
    look-up should be tried again. ``reason`` holds ids and field names only."""

    status: str
    reason: str = ""
    retry_in: int | None = None


def contact_fetcher(provider: str):
    """The callable configured in ``settings.CONTACT_FETCHERS`` for this provider, or None."""
    path = settings.CONTACT_FETCHERS.get(provider)
    return _import_fetcher(path) if path else None


@cache
def _import_fetcher(path: str):
    return import_string(path)


def refresh_backoff(attempt: int) -> int:
    """Seconds before retrying after the ``attempt``-th failure: BACKOFF, 2×, 4×, ..., capped."""
    return int(backoff_seconds(attempt, base=settings.CONTACT_REFRESH_BACKOFF_SECONDS, cap=REFRESH_BACKOFF_CAP_SECONDS))


def refresh_contact(*, contact_id: int) -> RefreshResult:
    """Look the contact up with its provider's fetcher and apply the state by last-write-wins.

    The fetcher runs outside any transaction (it may be slow); its result is applied under the row
    lock. A failure counts an attempt and sets when to retry (``refresh_due_at``); the caller retries.
    """
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        return RefreshResult("skipped", f"contact {contact_id} no longer exists")
    fetcher = contact_fetcher(contact.provider)
    if fetcher is None:
        return RefreshResult("skipped", f"no contact fetcher configured for {contact.provider}")
    if not contact.needs_refresh:
        return RefreshResult("skipped", "contact is up to date")
    if contact.is_erased and erased_on_request(contact):
        Contact.objects.filter(pk=contact.pk).update(needs_refresh=False, updated_at=timezone.now())
        return RefreshResult("skipped", "contact was erased on a data-subject request")
    try:
        snapshot = fetcher(provider=contact.provider, account_id=contact.account_id, external_id=contact.external_id)
        if snapshot is not None and not isinstance(snapshot, ContactSnapshot):
            raise TypeError("a contact fetcher must return a ContactSnapshot or None")
        with transaction.atomic():
            lock_subjects([(contact.provider, contact.account_id, contact.external_id)])
            contact = Contact.objects.select_for_update().get(pk=contact_id)
            result = _apply_snapshot(contact, snapshot)
    except Exception as exc:  # noqa: BLE001  (any failure of a fetcher is retried, never lost)
        return _record_refresh_failure(contact_id, exc)
    logger.info("contact %s look-up: %s (%s)", contact_id, result.status, result.reason)
    return result


def _apply_snapshot(contact: Contact, snapshot: ContactSnapshot | None) -> RefreshResult:
    contact.refresh_attempts, contact.refresh_due_at = 0, None
    if snapshot is None:
        # Not found (or deleted) at the provider: nothing to look up; a deletion event erases, not us.
        contact.needs_refresh = False
        contact.save()
        return RefreshResult("refreshed", "not found at the provider: nothing applied")
    as_of = snapshot.as_of if snapshot.as_of.tzinfo else snapshot.as_of.replace(tzinfo=UTC)
    stamp = version_stamp(as_of, SNAPSHOT_TIEBREAK)
    deleted = contact.field_versions.get(DELETION_VERSION_KEY)
    reactivated = False
    if contact.is_erased:
        if not contact.needs_refresh or erased_on_request(contact):
            # Erased again (or on a data-subject request) while the look-up was running.
            contact.save()
            return RefreshResult("skipped", "contact was erased while it was looked up")
        if deleted is not None and stamp <= deleted:
            contact.save()
            return RefreshResult("skipped", "the looked-up state is older than the contact's deletion")
        # Reactivated at the provider after its own (soft) deletion: the contact lives again, filled
        # only from its current state there. The erasure record stays; nothing older comes back.
        contact.erased_at = None
        reactivated = True
    event = ContactEvent(
        provider=contact.provider,
        account_id=contact.account_id,
        external_id=contact.external_id,
        kind=ContactEventKind.UPDATED,
        changed_at=as_of,
        tiebreak=SNAPSHOT_TIEBREAK,
        fields=snapshot.fields,
    )
    outcome = _apply_fields(contact, event)
    requested = contact.field_versions.get(REFRESH_VERSION_KEY)
    if requested is None or stamp >= requested:
        contact.needs_refresh = False
    contact.save()
    if reactivated:
        # From now on its deliveries are stored as received, like any living contact's.
        subject_reactivated.send(
            sender=Contact, provider=contact.provider, account_id=contact.account_id, external_id=contact.external_id
        )
    reason = "; ".join(
        part
        for part in (
            "reactivated" if reactivated else "",
            f"applied: {', '.join(outcome.changed)}" if outcome.changed else "nothing newer",
            outcome.reason,
            "a newer change still needs a look-up" if contact.needs_refresh else "",
        )
        if part
    )
    return RefreshResult("refreshed", reason)


def _record_refresh_failure(contact_id: int, exc: Exception) -> RefreshResult:
    # Class and module only: a fetcher's message may quote the provider's data.
    error = error_class_name(exc)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
        if contact is None:
            return RefreshResult("skipped", f"contact {contact_id} no longer exists")
        contact.refresh_attempts += 1
        attempts = contact.refresh_attempts
        retry_in = refresh_backoff(attempts) if attempts < settings.CONTACT_REFRESH_MAX_ATTEMPTS else None
        contact.refresh_due_at = timezone.now() + timedelta(seconds=retry_in) if retry_in is not None else None
        contact.save(update_fields=["refresh_attempts", "refresh_due_at", "updated_at"])
    if retry_in is None:
        logger.error("contact %s look-up failed (%s), attempt %s: giving up", contact_id, error, attempts)
        return RefreshResult("failed", f"{error}; gave up after {attempts} attempts")
    logger.warning("contact %s look-up failed (%s), attempt %s: retry in %ss", contact_id, error, attempts, retry_in)
    return RefreshResult("failed", f"{error}; attempt {attempts}, retry in {retry_in}s", retry_in=retry_in)


def request_refresh(*, contacts: QuerySet[Contact]) -> tuple[list[int], int]:
    """Staff asked to look these contacts up now: mark them and forget earlier failures, so that they are
    due. Inline, they are looked up once this commits; with workers, by the next ``webhook_worker`` round.
    Returns the ids marked and how many were skipped (no fetcher for their provider, or an erased contact
    that its provider has not reactivated)."""
    providers = set(settings.CONTACT_FETCHERS)
    candidates = list(contacts.values_list("pk", "provider", "erased_at", "needs_refresh"))
    queued = [
        pk
        for pk, provider, erased_at, needs_refresh in candidates
        if provider in providers and (erased_at is None or needs_refresh)
    ]
    with transaction.atomic():
        Contact.objects.filter(pk__in=queued).update(
            needs_refresh=True, refresh_attempts=0, refresh_due_at=None, updated_at=timezone.now()
        )
        if settings.WEBHOOK_PROCESSING == "inline":
            for pk in queued:
                _look_up_after_commit(pk)
    return queued, len(candidates) - len(queued)


def _refresh_after_commit(contact: Contact) -> None:
    """Inline, look the contact up once the change that asked for it commits, unless a failed look-up is
    backing off. With workers nothing is queued: a contact that needs a look-up and is due is the work
    (``refresh_due_contacts``)."""
    if settings.WEBHOOK_PROCESSING != "inline":
        return
    if not contact.needs_refresh or contact_fetcher(contact.provider) is None:
        return
    if contact.refresh_due_at is not None and contact.refresh_due_at > timezone.now():
        return
    _look_up_after_commit(contact.pk)


def _look_up_after_commit(contact_pk: int) -> None:
    # A lambda, not a partial: Django logs a failing robust hook's __qualname__, which a partial lacks.
    transaction.on_commit(lambda: refresh_contact(contact_id=contact_pk), robust=True)


# A claimed look-up is someone's for this long; if its process dies, the contact is due again after it.
REFRESH_LEASE = timedelta(minutes=5)


def refresh_due_contacts(*, limit: int, provider: str | None = None) -> int:
    """Look up to ``limit`` due contacts up (``webhook_worker``'s second queue: contacts that need a
    look-up, not backing off, not given up on). Each is claimed for ``REFRESH_LEASE`` first, in a short
    transaction that skips contacts another worker is claiming, so two workers never look one contact up
    at once. Returns how many were looked up."""
    from contacts.selectors import contacts_due_for_refresh

    if not settings.CONTACT_FETCHERS:
        return 0
    now = timezone.now()
    with transaction.atomic():
        due = contacts_due_for_refresh(now=now, provider=provider).select_for_update(skip_locked=True)
        claimed = list(due.values_list("pk", flat=True)[:limit])
        Contact.objects.filter(pk__in=claimed).update(refresh_due_at=now + REFRESH_LEASE)
    for contact_pk in claimed:
        refresh_contact(contact_id=contact_pk)
    return len(claimed)
