"""Inline mode: a delivery applied in the request that stores it, in one transaction, before the 2xx.

The usual delivery (a change to a contact that is not erased) is applied first and then inserted with its
outcome already on it (``apply_before_storing``): one write of the event row, not an INSERT and then an
UPDATE of the same row. When that cannot be (the INSERT finds a duplicate or an erased contact, or the
outcome asks for the stored row to be rebuilt), the transaction rolls back whole and the event is inserted
first and applied after (``apply_just_stored``). Nothing is answered 2xx before the commit either way.
"""

import logging

from django.db import transaction

from config.db.locks import lock_subjects
from config.ops.failures import describe_failure
from webhooks import processing
from webhooks.models import WebhookEvent
from webhooks.processing import apply_batch, settle_outcomes

logger = logging.getLogger(__name__)


class QuickApplyFailed(Exception):
    """The quick apply of a delivery failed: roll its transaction back whole, store the event again and apply
    it the isolating way (``apply_just_stored(quick=False)``), which records the failure."""


class StoredRowNeeded(Exception):
    """The delivery cannot be applied before its row is inserted: it is a duplicate, its contact is erased
    (its copy is stored rebuilt), or its outcome rebuilds it. Roll back whole; insert first, then apply."""


def apply_before_storing(event: WebhookEvent, reading) -> None:
    """Apply ``event``, not inserted yet, and set its outcome on it (``OUTCOME_FIELDS``): the caller inserts
    it with that outcome, and raises ``StoredRowNeeded`` when the INSERT does not take it. ``reading``: the
    provider's (``webhooks.processing.reading``), taken before the transaction. The contact's lock is taken
    first, as by every writer (``config.db.locks``). No savepoint: any failure of the apply raises
    ``QuickApplyFailed``."""
    lock_subjects([(event.provider, event.account_id, event.external_id)])
    try:
        results, changes = processing.applied_outcomes([event], isolated=False, readings=[reading])
        rebuilt = settle_outcomes([event], results, changes)
    except Exception as exc:  # noqa: BLE001  (the caller rolls back and applies again, failure recorded)
        raise QuickApplyFailed from exc
    if rebuilt:
        raise StoredRowNeeded  # about an erased contact: its copy is rebuilt, which needs the stored row


def apply_just_stored(event: WebhookEvent, *, quick: bool) -> None:
    """Apply the event this transaction has just inserted, before the delivery's one commit.

    Its row is new and not committed: nobody else sees it, so it is neither read back nor locked. The
    contact's lock was taken before the INSERT (``webhooks.ingest.insert_delivery``): the same order as on
    the apply-first path and for every writer. ``quick``: no savepoint, any failure raises
    ``QuickApplyFailed`` (the caller rolls back and comes again without ``quick``: failures are rare, and a
    savepoint on every delivery costs two round trips). Otherwise the isolating way: under a savepoint,
    which records a failure on the event; if even that fails, the event commits as stored, due for the
    worker (or ``webhook_worker --once`` from cron). Only a lost transaction escapes."""
    if quick:
        try:
            apply_batch([event], isolated=False)
        except Exception as exc:  # noqa: BLE001  (the caller rolls back and applies again, failure recorded)
            raise QuickApplyFailed from exc
    else:
        try:
            with transaction.atomic():
                apply_batch([event], isolated=True)
        except Exception as exc:  # noqa: BLE001  (logged without its message, which could quote data)
            logger.error("webhook event %s not applied now (%s); it stays due", event.pk, describe_failure(exc))
            return
    finished_on_commit(event)


def finished_on_commit(event: WebhookEvent) -> None:
    """Its log line and counts once the delivery has committed (``finished``)."""
    transaction.on_commit(lambda: finished(event))


def finished(event: WebhookEvent) -> None:
    """A committed delivery's log line and counts (``batch_finished``); their failure is logged, never
    answered: the event is stored and applied."""
    try:
        processing.batch_finished([event])
    except Exception as exc:  # noqa: BLE001  (logged by class and place only)
        logger.error("webhook event %s applied; its log line or counts failed (%s)", event.pk, describe_failure(exc))
