"""Delivering outbound messages beside the inbound drain, each system on its own thread.

``webhook_worker`` runs one dispatcher thread next to its event loop: it claims due messages in batches,
hands each system's share to a thread of a small pool and claims again, leaving out the systems it is
still busy with. So a system that answers slowly, or not at all, occupies one thread and holds neither
the other systems nor the inbound events. A try that fails ends its system's share: the rest wait for the
same next try instead of each costing a timeout. ``--once`` delivers what is due, waits, and returns.
"""

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connection
from django.utils import timezone

from config.failures import describe_failure
from webhooks.outbound.http import post_message
from webhooks.outbound.models import OutboundMessage
from webhooks.outbound.queue import TryOutcome, claim_due_messages, due_messages, record_tries, release

logger = logging.getLogger(__name__)

CONCURRENT_SYSTEMS = 8
CLAIM_SIZE = 100
# A slow system's tries are written at least this often, so its progress shows while its share lasts.
FLUSH_SECONDS = 1.0
FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 0.5, 30.0
# SQLite has one writer at a time anyway; its shared-cache databases (tests' in-memory one) answer a second
# writer "locked" at once instead of waiting, so this process's delivering threads take turns there.
_sqlite_turns = threading.Lock()


def database_turn():
    return _sqlite_turns if connection.vendor == "sqlite" else contextlib.nullcontext()


class OutboundDispatcher:
    def __init__(self, *, poll_seconds: float | None = None, concurrency: int = CONCURRENT_SYSTEMS):
        self.poll_seconds = settings.WEBHOOK_WORKER_POLL_SECONDS if poll_seconds is None else poll_seconds
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self._changed = threading.Condition()
        self._busy: set[int] = set()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="outbound")
        self.tried = 0

    # --- Running ---------------------------------------------------------------------------------------

    def run(self) -> None:
        """Until ``stop()``: claim, hand out, wait for due work or a free thread. Runs on its own thread."""
        backoff = FIRST_BACKOFF_SECONDS
        try:
            while not self.stopping.is_set():
                try:
                    handed_out = self.dispatch()
                    backoff = FIRST_BACKOFF_SECONDS
                except Exception as exc:  # noqa: BLE001  (the database, or a bug: this thread must go on)
                    level = logging.WARNING if isinstance(exc, DatabaseError | InterfaceError) else logging.ERROR
                    logger.log(level, "outbound: claiming failed (%s); retrying in %.1fs", describe_failure(exc),
                               backoff)  # fmt: skip
                    connection.close()
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                if not handed_out:
                    self._wait_for_change(self.poll_seconds)
        finally:
            self._pool.shutdown(wait=True)
            connection.close()

    def deliver_due(self) -> int:
        """``--once``: deliver what is due now (each message tried at most once), wait, return how many."""
        with database_turn():
            if not due_messages().exists():
                return 0
        claimed_ids: set[int] = set()
        while True:
            handed_out = self.dispatch(exclude=claimed_ids)
            claimed_ids |= handed_out
            with self._changed:
                if not handed_out and not self._busy:
                    break
                if not handed_out:
                    self._changed.wait(self.poll_seconds)
        self._pool.shutdown(wait=True)
        return self.tried

    def stop(self) -> None:
        self.stopping.set()
        with self._changed:
            self._changed.notify_all()

    # --- Claiming and handing out -----------------------------------------------------------------------

    def dispatch(self, exclude: set[int] | None = None) -> set[int]:
        """Claim due messages of systems this dispatcher is not busy with, and start delivering them.
        Returns the ids of the messages handed out."""
        with self._changed:
            if len(self._busy) >= self.concurrency:
                return set()
            busy = set(self._busy)
        with database_turn():
            claimed = claim_due_messages(size=CLAIM_SIZE, skip_endpoints=busy)
            if exclude:
                # Tried once already in this --once run: left for the next one.
                release([message for message in claimed if message.pk in exclude])
                claimed = [message for message in claimed if message.pk not in exclude]
        shares: dict[int, list[OutboundMessage]] = {}
        for message in claimed:
            shares.setdefault(message.endpoint_id, []).append(message)
        with self._changed:
            self._busy |= set(shares)
        for share in shares.values():
            self._pool.submit(self._deliver_share, share)
        return {message.pk for message in claimed}

    def _wait_for_change(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait(seconds)

    # --- Delivering one system's share (on a pool thread) ---------------------------------------------

    def _deliver_share(self, share: list[OutboundMessage]) -> None:
        endpoint = share[0].endpoint
        outcomes: list[TryOutcome] = []
        flushed = time.monotonic()
        try:
            close_old_connections()
            for index, message in enumerate(share):
                if self.stopping.is_set():
                    with database_turn():
                        release(share[index:])
                    break
                result = post_message(
                    url=endpoint.url, message_id=message.message_id, body=message.body, secrets=endpoint.secrets
                )
                outcomes.append(TryOutcome(message=message, result=result, at=timezone.now()))
                self.tried += 1
                if not result.delivered:
                    # The system is down or refusing: the rest wait for this message's next try, untried.
                    self._record(outcomes)
                    outcomes = []
                    with database_turn():
                        self._postpone(share[index + 1 :], until=message.next_attempt_at)
                    break
                if time.monotonic() - flushed >= FLUSH_SECONDS:
                    self._record(outcomes)
                    outcomes, flushed = [], time.monotonic()
            self._record(outcomes)
        except Exception as exc:  # noqa: BLE001  (the share's leases expire and another try comes)
            logger.error("outbound: delivering to system %s failed (%s)", endpoint.label, describe_failure(exc))
        finally:
            connection.close()
            with self._changed:
                self._busy.discard(endpoint.pk)
                self._changed.notify_all()

    @staticmethod
    def _record(outcomes: list[TryOutcome]) -> None:
        with database_turn():
            record_tries(outcomes)

    @staticmethod
    def _postpone(messages: list[OutboundMessage], *, until) -> None:
        if messages:
            OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]).update(next_attempt_at=until)
