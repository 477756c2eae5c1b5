"""Reads of contacts shared by the admin and the API."""

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet

from config.erased_ids import id_forms
from contacts.labels import LABELLED_FIELDS, value_label
from contacts.models import Contact, ErasureLogVerification, ErasureRecord
from contacts.search import fold, search_condition
from contacts.services.erasure import earlier_phone_fingerprint, fingerprint
from webhooks.bridge import stored_events
from webhooks.events import TimelineEntry


def search_contacts(queryset: QuerySet, term: str) -> QuerySet:
    """Contacts whose name, email, phone (however typed), tags, custom field values or ids hold every word
    of the term, whatever its case, accents and word order, or whose source or status reads that word in the
    reader's language ("membros" finds FPT's "Members"); a tombstone by its exact provider id."""
    condition = search_condition(term, also=labels_matching())
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(external_id__in=id_forms(term.strip())))


def labels_matching():
    """For a folded search word, the contacts whose source or status label (in the reader's language) holds it:
    the labels of the values the columns hold (read through their indexes, once per search)."""
    labels = {field: [(value, fold(value_label(value))) for value in distinct_values(field) if value]
              for field in LABELLED_FIELDS}  # fmt: skip

    def matching(word: str) -> Q | None:
        condition = Q()
        for field, values in labels.items():
            if found := [value for value, label in values if word in label]:
                condition |= Q(**{f"{field}__in": found})
        return condition or None

    return matching


def distinct_values(field_name: str) -> list:
    """The distinct values of an indexed, non-null contact column, in order. On PostgreSQL by skipping through
    its index (a recursive query: one index probe per distinct value) rather than a SELECT DISTINCT that reads
    every row — the admin's list filters ask for these on every list page (docs/performance.md)."""
    field = Contact._meta.get_field(field_name)
    if connection.vendor != "postgresql" or field.null:
        return list(Contact.objects.order_by(field_name).values_list(field_name, flat=True).distinct())
    quote = connection.ops.quote_name
    column, table = quote(field.column), quote(Contact._meta.db_table)
    # Names from the model's metadata, no values: nothing from outside reaches this SQL.
    first = f"SELECT {column} FROM {table} ORDER BY {column} LIMIT 1"  # noqa: S608
    after = f"SELECT {column} FROM {table} WHERE {column} > skip.value ORDER BY {column} LIMIT 1"  # noqa: S608
    recursive = f"WITH RECURSIVE skip(value) AS (({first}) UNION ALL SELECT ({after}) FROM skip"  # noqa: S608
    sql = recursive + " WHERE skip.value IS NOT NULL) SELECT value FROM skip WHERE value IS NOT NULL"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


class FingerprintKeyMissing(Exception):
    """``ERASURE_FINGERPRINT_KEY`` is not set: the log holds no fingerprints to look anything up by."""


def erasures_by_fingerprint(*, email: str = "", phone: str = "") -> QuerySet:
    """Erasure records whose keyed fingerprint matches the email or phone, however it is written."""
    if not settings.ERASURE_FINGERPRINT_KEY:
        raise FingerprintKeyMissing("ERASURE_FINGERPRINT_KEY is not configured")
    condition = Q(pk__in=[])
    if email and (email_fp := fingerprint("email", email)):
        condition |= Q(email_fingerprint=email_fp)
    if phone and (phone_fp := fingerprint("phone", phone)):
        condition |= Q(phone_fingerprint__in=[phone_fp, earlier_phone_fingerprint(phone) or phone_fp])
    return ErasureRecord.objects.filter(condition).order_by("sequence")


def contact_timeline(contact: Contact) -> list[TimelineEntry]:
    """The contact's webhook events, newest first, from ``webhooks`` (``stored_events``): contacts never
    reads the event log's tables. With each change's old and new values, unless the contact is erased: then
    nothing personal. Raises when nothing is registered, rather than show a contact without its events."""
    entries = stored_events().timeline(
        provider=contact.provider,
        account_id=contact.account_id,
        external_id=contact.external_id,
        with_values=not contact.is_erased,
    )
    # Newest first by the time the page shows for each (when it happened; when it arrived if the provider
    # did not say): FitProTracker's deliveries often arrive in another order than their changes happened.
    return sorted(
        entries, key=lambda entry: (entry.occurred_at or entry.received_at, entry.received_at, entry.event_pk),
        reverse=True,
    )  # fmt: skip


def contact_counts_by_provider_and_source() -> list[dict]:
    """Rows of ``provider``, ``source``, ``count`` (erased contacts apart, as ``erased``). One query."""
    return list(
        Contact.objects.values("provider", "source")
        .annotate(
            count=Count("id", filter=Q(erased_at__isnull=True)),
            erased=Count("id", filter=Q(erased_at__isnull=False)),
        )
        .order_by("provider", "-count", "source")
    )


def erasures_since(moment: datetime) -> int:
    return ErasureRecord.objects.filter(erased_at__gte=moment).count()


def last_erasure_log_verification() -> ErasureLogVerification | None:
    return ErasureLogVerification.objects.order_by("-verified_at", "-id").first()
