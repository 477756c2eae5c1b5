"""The erasure log's hash chain: appending records to it, and proving it unbroken.

**Appending.** Each record's ``hash`` covers the previous record's, so writers are serialized (an advisory
lock held until commit) and the chain never forks. A batch of events appends its erasures' records at its
end, in one go (``erasure_records_appended_at_the_end``).

**Verifying** (``manage.py verify_erasure_log``), cheaply enough to run every hour. Every record must follow
the previous one (consecutive sequence, ``prev_hash`` = the previous ``hash``) and hash to its own ``hash``. A
successful run is a checkpoint: the hash of its last record commits to every record before it, so by default
the next run starts there. It re-hashes the checkpoint's record (so a rewrite that was re-hashed all the way
up to it changes that hash and is caught), counts that no record before it went missing, and walks only the
records appended since. ``full`` re-hashes everything, which also catches a record before the checkpoint
edited without re-hashing (only someone past the database's append-only trigger can do that; run it weekly,
docs/operations.md).

The runs are chained themselves (``ErasureLogVerification.prev_hash``/``hash``): a checkpoint rewritten to
skip a forged stretch breaks that chain, and a default run refuses a checkpoint that does not verify.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, transaction

from config.progress import progress
from contacts.erasure_reasons import check_reason_and_reference
from contacts.models import ErasureLogVerification, ErasureRecord

# Arbitrary constants naming the advisory locks that serialize writers of the erasure log's chain and of
# the verification runs' chain.
ERASURE_CHAIN_LOCK_ID = 7_204_311_882
VERIFICATION_CHAIN_LOCK_ID = 7_204_311_883
CHUNK = 2000

# --- Appending ---------------------------------------------------------------------------------------

# Records of the erasures of the current batch, appended to the chain when the batch ends (None: at once),
# and what is to run once they are (``when_appended``).
_deferred_records: ContextVar[list[ErasureRecord] | None] = ContextVar("deferred_erasure_records", default=None)
_deferred_callbacks: ContextVar[list | None] = ContextVar("deferred_erasure_callbacks", default=None)


@contextmanager
def erasure_records_appended_at_the_end():
    """Append the erasure records of what runs inside to the chain at its end, in one go.

    The chain's writers are serialized by a lock held until commit; a worker's batch that took it at its
    first erasure would hold it for the whole batch, and with deletions spread through the queue most
    batches would wait for the one before. Taken at the end, it covers the append, the outcomes' write and
    the commit."""
    records: list[ErasureRecord] = []
    callbacks: list = []
    token, callbacks_token = _deferred_records.set(records), _deferred_callbacks.set(callbacks)
    try:
        yield
    finally:
        _deferred_records.reset(token)
        _deferred_callbacks.reset(callbacks_token)
    if records:
        _append_to_chain(records)
    for callback in callbacks:
        callback()


def when_appended(callback) -> None:
    """Run ``callback`` once the records appended so far are in the chain (with their ids): now, or at
    the end of the batch running."""
    callbacks = _deferred_callbacks.get()
    if callbacks is None:
        callback()
    else:
        callbacks.append(callback)


def append_erasure_record(**values) -> ErasureRecord:
    """Append a record with these values to the chain, now or at the end of the batch running. Its reason is
    a code and its reference a ticket id (``contacts.erasure_reasons``), or it is refused here, whoever wrote
    it: the log can never be erased."""
    check_reason_and_reference(reason=values.get("reason", ""), reference=values.get("reference", ""))
    record = ErasureRecord(**values)
    deferred = _deferred_records.get()
    if deferred is not None:
        deferred.append(record)
    else:
        _append_to_chain([record])
    return record


def _append_to_chain(records: list[ErasureRecord]) -> None:
    _lock_until_commit(ERASURE_CHAIN_LOCK_ID)
    last = ErasureRecord.objects.order_by("-sequence").only("sequence", "hash", "hash_scheme", "digest_hash").first()
    sequence, prev_link = (last.sequence, last.link_hash) if last else (0, ErasureRecord.GENESIS_HASH)
    for record in records:
        sequence += 1
        record.sequence, record.prev_hash = sequence, prev_link
        record.hash = prev_link = record.digest_chain_hash(prev_link)
        record.save(force_insert=True)


def _lock_until_commit(lock_id: int) -> None:
    """Serialize the writers of one chain (SQLite has one writer at a time already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Raw SQL: the ORM has no advisory locks.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


# --- Verifying ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureLogReport:
    ok: bool
    records: int
    first_broken_sequence: int | None = None
    detail: str = ""
    head_hash: str = ""
    rehashed: int = 0


def verify_erasure_log(*, full: bool = False, progress_stream=None, verified_by: str = "") -> ErasureLogVerification:
    """Verify the log (from the last checkpoint, or all of it with ``full``) and record the run, chained, with
    who ran it (a staff username; empty for the command).

    With ``progress_stream``, the records being re-hashed are shown there (config.progress)."""
    checkpoint = None if full else last_checkpoint()
    if full or checkpoint is None:
        report = check_runs_chain() or check_chain(start=None, progress_stream=progress_stream)
    elif (broken := check_checkpoint(checkpoint)) is not None:
        report = broken
    else:
        report = check_chain(start=checkpoint, progress_stream=progress_stream)
    return record_run(report, full=full or checkpoint is None, verified_by=verified_by)


def last_checkpoint() -> ErasureLogVerification | None:
    """The newest successful chained run that saw at least one record."""
    return ErasureLogVerification.objects.filter(ok=True).exclude(hash="").exclude(head_hash="").order_by("-id").first()


def check_checkpoint(checkpoint: ErasureLogVerification) -> ErasureLogReport | None:
    """A report when the checkpoint run itself was altered (its hash, or its link to the run before it)."""
    before = ErasureLogVerification.objects.exclude(hash="").filter(id__lt=checkpoint.id).order_by("-id").first()
    expected_prev = before.hash if before else ErasureLogVerification.GENESIS_HASH
    if checkpoint.prev_hash != expected_prev or checkpoint.compute_hash() != checkpoint.hash:
        return ErasureLogReport(
            ok=False,
            records=checkpoint.records,
            detail=f"verification run {checkpoint.pk} was altered after it was recorded: run with --full",
        )
    return None


def check_runs_chain() -> ErasureLogReport | None:
    """A report naming the first altered run of the verification chain (``--full`` re-hashes them all)."""
    expected_prev = ErasureLogVerification.GENESIS_HASH
    for run in ErasureLogVerification.objects.exclude(hash="").order_by("id").iterator(chunk_size=CHUNK):
        if run.prev_hash != expected_prev or run.compute_hash() != run.hash:
            return ErasureLogReport(
                ok=False, records=run.records, detail=f"verification run {run.pk} was altered after it was recorded"
            )
        expected_prev = run.hash
    return None


def check_chain(*, start: ErasureLogVerification | None, progress_stream=None) -> ErasureLogReport:
    """Walk the records after ``start``'s last one (all of them without a start), re-hashing each."""
    last_good = start or (
        ErasureLogVerification.objects.filter(ok=True).exclude(head_hash="").order_by("-verified_at", "-id").first()
    )
    proven = start.records if start else 0
    previous = None
    if start is not None:
        broken, previous = _check_anchor(start)
        if broken is not None:
            return broken
    expected_sequence = proven + 1
    seen_head = start.head_hash if start else None
    count = proven
    records = ErasureRecord.objects.filter(sequence__gt=proven).order_by("sequence")
    head = ErasureRecord.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    with progress(total=max(head - proven, 0), desc="verifying", stream=progress_stream) as bar:
        for record in records.iterator(chunk_size=CHUNK):
            count += 1
            bar.update()
            broken = _check_record(record, expected_sequence=expected_sequence, previous=previous)
            if broken is not None:
                return ErasureLogReport(
                    ok=False,
                    records=count,
                    first_broken_sequence=record.sequence,
                    detail=broken,
                    rehashed=count - proven,
                )
            if last_good is not None and record.sequence == last_good.records:
                seen_head = record.hash
            previous = record
            expected_sequence += 1

    if last_good is not None and last_good.records and seen_head != last_good.head_hash:
        return ErasureLogReport(
            ok=False,
            records=count,
            first_broken_sequence=min(last_good.records, count + 1),
            detail=_missing_or_rewritten(last_good),
            rehashed=count - proven,
        )
    # The head as this run saw it (not re-read: a record appended meanwhile was not checked).
    head_hash = previous.hash if count and previous is not None else ""
    return ErasureLogReport(ok=True, records=count, head_hash=head_hash, rehashed=count - proven)


def _check_anchor(start: ErasureLogVerification) -> tuple[ErasureLogReport | None, ErasureRecord | None]:
    """The checkpoint's last record is still there, unchanged, and so is every record before it. Returns a
    report when not, and the anchor record (the walk goes on from it)."""
    anchor = ErasureRecord.objects.filter(sequence=start.records).first()
    before = ErasureRecord.objects.filter(sequence=start.records - 1).first()
    if (
        anchor is None
        or anchor.hash != start.head_hash
        or _check_record(anchor, expected_sequence=start.records, previous=before) is not None
    ):
        report = ErasureLogReport(
            ok=False, records=start.records, first_broken_sequence=start.records, detail=_missing_or_rewritten(start)
        )
        return report, None
    # Sequences are unique, so exactly ``records`` of them in 1..records means none is missing (an index count).
    present = ErasureRecord.objects.filter(sequence__gte=1, sequence__lte=start.records).count()
    if present != start.records:
        report = ErasureLogReport(
            ok=False,
            records=present,
            detail=f"{start.records - present} record(s) before record {start.records} are missing: run with --full",
        )
        return report, None
    return None, anchor


def _check_record(record: ErasureRecord, *, expected_sequence: int, previous: ErasureRecord | None) -> str | None:
    """What is wrong with the record following ``previous`` (None: the first), or None."""
    if record.sequence != expected_sequence:
        return f"record {record.sequence}: expected sequence {expected_sequence} (a record is missing)"
    genesis = ErasureRecord.GENESIS_HASH
    prev_link = previous.link_hash if previous else genesis
    # A scheme-1 record kept the prev_hash it was written with (the previous record's first hash).
    expected_prev = (previous.hash if previous else genesis) if record.hash_scheme == 1 else prev_link
    if record.prev_hash != expected_prev:
        return f"record {record.sequence}: prev_hash does not match the hash of record {record.sequence - 1}"
    if set(record.blanked_digests) - set(record.BLANKABLE_FIELDS) or any(
        getattr(record, name) for name in record.blanked_digests
    ):
        return f"record {record.sequence}: a blanked field was changed after it was blanked"
    if record.hash_scheme == 1:
        intact = record.digest_chain_hash(prev_link) == record.digest_hash and (
            # Its first hash covers the text itself: checked while the text is there.
            bool(record.blanked_digests) or record.compute_hash() == record.hash
        )
    else:
        intact = record.compute_hash() == record.hash
    if not intact:
        return f"record {record.sequence}: its content does not match its hash (changed after it was written)"
    return None


def _missing_or_rewritten(run: ErasureLogVerification) -> str:
    return f"record {run.records} verified on {run.verified_at:%Y-%m-%d %H:%M} UTC is missing or was rewritten"


def record_run(report: ErasureLogReport, *, full: bool, verified_by: str = "") -> ErasureLogVerification:
    """Append the run to the verification chain. Writers are serialized so that the chain never forks."""
    with transaction.atomic():
        _lock_until_commit(VERIFICATION_CHAIN_LOCK_ID)
        last = ErasureLogVerification.objects.exclude(hash="").order_by("-id").only("hash").first()
        run = ErasureLogVerification(
            ok=report.ok,
            records=report.records,
            first_broken_sequence=report.first_broken_sequence,
            head_hash=report.head_hash,
            detail=report.detail,
            verified_by=verified_by,
            full=full,
            rehashed=report.rehashed,
            prev_hash=last.hash if last else ErasureLogVerification.GENESIS_HASH,
        )
        run.hash = run.compute_hash()
        run.save(force_insert=True)
    return run
