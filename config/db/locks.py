"""Advisory locks. Per-contact locks: every writer of one contact (a webhook batch, an inline delivery, an erasure on
request) holds its lock first, so two never interleave and no lock is ever waited for in two orders.

A contact is named by provider, account and the provider's contact id (its "subject": the same for the
contact row and for its event rows). PostgreSQL only: transaction-level advisory locks, released by
commit or rollback (or by the server when the connection dies), so a killed process holds nothing. SQLite
has one writer at a time (``BEGIN IMMEDIATE``), which already serializes everything. Single-key locks
(``lock_until_commit``) serialize the writers of one chain, such as the erasure log's.

Raw SQL: the ORM has no advisory locks.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

# Namespace of the per-contact locks (PostgreSQL's two-integer form keeps them apart from single-key locks
# such as the erasure log chain's).
SUBJECT_LOCK_NAMESPACE = 0x63726D

Subject = tuple[str, str, str]  # provider, account_id, external_id


def subject_name(subject: Subject) -> str:
    return "/".join(subject)


def lock_subjects(subjects: Iterable[Subject]) -> None:
    """Wait for the locks of these contacts, in one fixed order (so two waiters never deadlock)."""
    names = sorted({subject_name(subject) for subject in subjects})
    if connection.vendor != "postgresql" or not names:
        return
    with connection.cursor() as cursor:
        # Taken in the order of the lock keys themselves (two names may share a hash), one statement.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, lock_key) "
            "FROM (SELECT DISTINCT hashtext(name) AS lock_key FROM unnest(%s::text[]) AS name ORDER BY 1) AS keys",
            [SUBJECT_LOCK_NAMESPACE, names],
        )


def lock_subjects_of(model, pks: list[int]) -> None:
    """``lock_subjects`` for the contacts that these rows of ``model`` (any model with the three subject
    fields: an event) are about, read and locked in one statement, in the same order as above."""
    if connection.vendor != "postgresql" or not pks:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, lock_key) FROM (SELECT DISTINCT "  # noqa: S608 (the model's own table)
            "hashtext(provider || '/' || account_id || '/' || external_id) AS lock_key "
            f"FROM {quote(model._meta.db_table)} WHERE id = ANY(%s) ORDER BY 1) AS keys",
            [SUBJECT_LOCK_NAMESPACE, list(pks)],
        )


def try_lock_subjects(subjects: Iterable[Subject]) -> set[Subject]:
    """Take the locks of those contacts nobody else holds, without waiting; returns the ones taken."""
    by_name = {subject_name(subject): subject for subject in subjects}
    if connection.vendor != "postgresql":
        return set(by_name.values())
    if not by_name:
        return set()
    with connection.cursor() as cursor:
        # A volatile function in the outer WHERE is evaluated once per name, never pushed into a scan.
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE pg_try_advisory_xact_lock(%s, hashtext(name))",
            [sorted(by_name), SUBJECT_LOCK_NAMESPACE],
        )
        return {by_name[name] for (name,) in cursor.fetchall()}


def subjects_filter(subjects: Iterable[Subject]) -> Q:
    """Rows about any of these contacts (contacts and their events share the three field names), one
    ``IN`` per provider account: a handful of index look-ups whatever the batch's size."""
    by_account = defaultdict(list)
    for provider, account_id, external_id in subjects:
        by_account[provider, account_id].append(external_id)
    condition = Q(pk__in=[])
    for (provider, account_id), external_ids in sorted(by_account.items()):
        condition |= Q(provider=provider, account_id=account_id, external_id__in=sorted(external_ids))
    return condition


def lock_until_commit(lock_id: int) -> None:
    """Wait for the single-key lock ``lock_id`` and hold it to the end of the transaction (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
