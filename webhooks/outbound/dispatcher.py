"""Delivering outbound messages beside the inbound drain, each system on its own thread.

``webhook_worker`` runs one dispatcher thread next to its event loop. It looks for systems with due
messages that none of its threads is delivering to and starts a thread (of a small pool) for each. That
thread claims its system's messages itself, a share at a time (``FOR UPDATE SKIP LOCKED``, so other
workers take other messages), delivers them one after the other over a pooled connection, and claims the
next share, until nothing of that system is due. So a system that answers slowly, or not at all, occupies
one thread and blocks nothing but itself: no claim for the other systems waits on it, and neither do the
inbound events. A try that fails ends the thread's work for its system: the rest wait for the same next
try instead of each costing a timeout. ``--once`` delivers what was due when it started, then returns.
"""

import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connection
from django.utils import timezone

from config.failures import describe_failure
from webhooks.outbound.http import post_message
from webhooks.outbound.models import OutboundEndpoint, OutboundMessage
from webhooks.outbound.queue import (
    TryOutcome,
    claim_due_messages,
    current_endpoint,
    endpoints_with_due_messages,
    record_tries,
    release,
)

logger = logging.getLogger(__name__)

CONCURRENT_SYSTEMS = 8
CLAIM_SIZE = 100
# Tries are written, and the system re-read (deactivated? a new URL or secret?), at least this often.
FLUSH_SECONDS = 1.0
# A thread that has delivered to one system this long hands its thread back when other systems wait.
TURN_SECONDS = 30.0
# A system whose due messages another worker holds right now is looked at again after this pause.
CONTENDED_PAUSE_SECONDS = 0.05
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
        self._busy: set[int] = set()  # the systems (endpoint ids) a thread of this dispatcher delivers to
        self._others_waiting = False
        # --once: only what was due when the run started (a message tried in the run is due later than that).
        self._due_before: datetime | None = None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="outbound")
        self.tried = 0

    # --- Running ---------------------------------------------------------------------------------------

    def run(self) -> None:
        """Until ``stop()``: start threads for systems with due messages, wait for due work or a free thread.
        Runs on its own thread."""
        backoff = FIRST_BACKOFF_SECONDS
        try:
            while not self.stopping.is_set():
                try:
                    started = self.dispatch()
                    backoff = FIRST_BACKOFF_SECONDS
                except Exception as exc:  # noqa: BLE001  (the database, or a bug: this thread must go on)
                    level = logging.WARNING if isinstance(exc, DatabaseError | InterfaceError) else logging.ERROR
                    logger.log(level, "outbound: looking for due messages failed (%s); retrying in %.1fs",
                               describe_failure(exc), backoff)  # fmt: skip
                    connection.close()
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                if not started:
                    self._wait_for_change(self.poll_seconds)
        finally:
            self._pool.shutdown(wait=True)
            connection.close()

    def deliver_due(self) -> int:
        """``--once``: deliver what is due now (each message tried at most once), wait, return how many."""
        self._due_before = timezone.now()
        while True:
            started = self.dispatch()
            with self._changed:
                if not started and not self._busy:
                    break
                if not started:
                    self._changed.wait(self.poll_seconds)
        self._pool.shutdown(wait=True)
        return self.tried

    def stop(self) -> None:
        self.stopping.set()
        with self._changed:
            self._changed.notify_all()

    # --- Handing systems to threads --------------------------------------------------------------------

    def dispatch(self) -> int:
        """Start a thread for each system with due messages that no thread of ours delivers to, as many as
        there are free threads. Returns how many were started."""
        with self._changed:
            busy, free = set(self._busy), self.concurrency - len(self._busy)
        with database_turn():
            waiting = endpoints_with_due_messages(exclude=busy, due_before=self._due_before, limit=max(free, 0) + 1)
        self._others_waiting = len(waiting) > free
        chosen = waiting[: max(free, 0)]
        with self._changed:
            self._busy |= set(chosen)
        for endpoint_id in chosen:
            self._pool.submit(self._deliver_to, endpoint_id)
        return len(chosen)

    def _wait_for_change(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait(seconds)

    # --- Delivering to one system (on a pool thread) ---------------------------------------------------

    def _deliver_to(self, endpoint_id: int) -> None:
        """Claim this system's due messages a share at a time and deliver them, until none is due, a try
        fails, the system is deactivated, the worker stops, or (other systems waiting) its turn is over."""
        began = time.monotonic()
        label = str(endpoint_id)
        try:
            close_old_connections()
            while not self.stopping.is_set():
                with database_turn():
                    endpoint, share = claim_due_messages(
                        endpoint_id=endpoint_id, size=CLAIM_SIZE, due_before=self._due_before
                    )
                if not share:
                    if endpoint is not None and time.monotonic() - began < CONTENDED_PAUSE_SECONDS:
                        self.stopping.wait(CONTENDED_PAUSE_SECONDS)  # held by another worker for a moment
                    break
                label = endpoint.label
                if not self._deliver_share(endpoint, share):
                    break
                if self._others_waiting and time.monotonic() - began >= TURN_SECONDS:
                    break
        except Exception as exc:  # noqa: BLE001  (the share's leases expire and another try comes)
            logger.error("outbound: delivering to system %s failed (%s)", label, describe_failure(exc))
        finally:
            connection.close()
            with self._changed:
                self._busy.discard(endpoint_id)
                self._changed.notify_all()

    def _deliver_share(self, endpoint: OutboundEndpoint, share: list[OutboundMessage]) -> bool:
        """Deliver one claimed share; False when the system's work ends here (a failed try, deactivated,
        stopping)."""
        outcomes: list[TryOutcome] = []
        flushed = time.monotonic()
        for index, message in enumerate(share):
            if time.monotonic() - flushed >= FLUSH_SECONDS:
                self._record(outcomes)
                outcomes, flushed = [], time.monotonic()
                with database_turn():
                    endpoint = current_endpoint(endpoint.pk)
                if endpoint is None:  # deactivated or removed meanwhile: nothing more goes out to it
                    self._release(share[index:])
                    return False
            if self.stopping.is_set():
                self._record(outcomes)
                self._release(share[index:])
                return False
            result = post_message(
                url=endpoint.url, message_id=message.message_id, body=message.body, secrets=endpoint.secrets
            )
            outcomes.append(TryOutcome(message=message, result=result, at=timezone.now()))
            if not result.delivered:
                # The system is down or refusing: the rest wait for this message's next try, untried.
                self._record(outcomes)
                with database_turn():
                    self._postpone(share[index + 1 :], until=message.next_attempt_at)
                return False
        self._record(outcomes)
        return True

    def _record(self, outcomes: list[TryOutcome]) -> None:
        with database_turn():
            record_tries(outcomes)
        with self._changed:
            self.tried += len(outcomes)

    @staticmethod
    def _release(messages: list[OutboundMessage]) -> None:
        with database_turn():
            release(messages)

    @staticmethod
    def _postpone(messages: list[OutboundMessage], *, until) -> None:
        if messages:
            OutboundMessage.objects.filter(pk__in=[m.pk for m in messages]).update(next_attempt_at=until)
