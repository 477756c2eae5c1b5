"""``manage.py webhook_worker``: the loop that drains the event log (docs/architecture.md › The queue).

Batch after batch while events are due; then the other due work (``worker_tick``: contact look-ups);
then, on PostgreSQL, wait for a ``NOTIFY`` from the event table's trigger (``LISTEN``), at most
``WEBHOOK_WORKER_POLL_SECONDS``; without LISTEN (SQLite, PgBouncer in transaction mode), sleep as long.

Beside that loop, a thread delivers outbound messages to downstream systems (``webhooks.outbound``), each
system on a thread of its own, so neither a slow system nor a backlog of events holds the other.

SIGTERM (or SIGINT) lets the batch (or the look-up) in progress commit, then the loop ends and the
process exits 0. A database that goes away is retried with exponential backoff and logged; the process
keeps running (a batch cut off by it rolls back whole: its events stay due). SIGKILL ends the process
mid-batch: the server rolls its transaction back, so nothing is half-applied and its claims end with it.
"""

import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection

from config.db import notifications
from config.ops.failures import describe_failure
from config.ops.progress import progress
from webhooks.claims import due_events, due_events_exist
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.processing import process_due_batch
from webhooks.replay import WAKE_UP_CHANNEL
from webhooks.signals import worker_tick

logger = logging.getLogger(__name__)

# How long one wait lasts at most before the stop flag is looked at again.
WAIT_SLICE_SECONDS = 0.5
FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 0.5, 30.0
CONTENDED_PAUSE_SECONDS = 0.05
# Contact look-ups per tick: bounded, so that events are never kept waiting long behind slow fetchers.
LOOK_UPS_PER_TICK = 20


@dataclass
class WebhookWorker:
    batch_size: int = 100
    once: bool = False
    poll_seconds: float = field(default_factory=lambda: settings.WEBHOOK_WORKER_POLL_SECONDS)
    listen: bool = field(default_factory=lambda: settings.WEBHOOK_WORKER_LISTEN)
    stopping: bool = False
    events_done: int = 0
    # ``once`` only: where progress through the backlog is shown (config.ops.progress), e.g. the command's stderr.
    progress_stream: Any = None
    # Deliver outbound messages too (on threads of their own: webhooks/outbound/dispatcher.py).
    outbound: bool = True
    messages_tried: int = 0
    _bar: Any = None
    _listening: bool = False
    _next_tick: float = 0.0

    def run(self) -> int:
        """Work until stopped (or, ``once``, until nothing is due). Returns how many events were done."""
        previous_handlers = self._install_signal_handlers()
        show = self.once and self.progress_stream is not None
        dispatcher = OutboundDispatcher(poll_seconds=self.poll_seconds) if self.outbound else None
        delivering = None
        if dispatcher is not None and not self.once:
            delivering = threading.Thread(target=dispatcher.run, name="outbound-dispatcher", daemon=True)
            delivering.start()
        try:
            with progress(
                total=due_events().count() if show else None,
                desc="applying due events",
                stream=self.progress_stream if show else None,
                unit="events",
            ) as self._bar:
                self._loop()
            if dispatcher is not None and self.once:
                self.messages_tried = dispatcher.deliver_due()
        finally:
            if delivering is not None:
                dispatcher.stop()
                delivering.join()
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)
        logger.info("webhook worker stopped after %s event(s)", self.events_done)
        return self.events_done

    def _loop(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while not self.stopping:
            try:
                busy = self.step()
                # Due, but every candidate's contact is being applied by another worker: look again soon.
                contended = not busy and not self.once and due_events_exist()
                backoff = FIRST_BACKOFF_SECONDS
            except (DatabaseError, InterfaceError) as exc:
                if self.once:
                    raise
                logger.warning("webhook worker: database unavailable (%s); retrying in %.1fs", describe_failure(exc),
                               backoff)  # fmt: skip
                self._reset_connection()
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            if busy:
                continue
            if self.once:
                break
            if contended:
                self._sleep(CONTENDED_PAUSE_SECONDS)
                continue
            self._wait(self.poll_seconds)

    def step(self) -> bool:
        """One batch, and the other due work when there is no event or the tick is due. True when there
        may be more to do at once."""
        if self.listen and not self._listening:
            self._listening = notifications.listen(WAKE_UP_CHANNEL)
        events = process_due_batch(size=self.batch_size)
        self.events_done += len(events)
        if self._bar is not None:
            self._bar.update(len(events))
        self._drain_notifications()
        full = len(events) == self.batch_size
        if full and time.monotonic() < self._next_tick:
            return True
        self._next_tick = time.monotonic() + self.poll_seconds
        ticked = self._tick()  # also while the backlog lasts: look-ups are not starved by it
        return full or bool(events) or ticked >= LOOK_UPS_PER_TICK

    def _tick(self) -> int:
        """Up to ``LOOK_UPS_PER_TICK`` items of the other due work, one at a time: a look-up can take
        seconds (a provider's API), so the stop flag is looked at between any two. Returns how many."""
        done = 0
        while done < LOOK_UPS_PER_TICK and not self.stopping:
            handled = sum(
                response for _receiver, response in worker_tick.send(sender=type(self), limit=1)
                if isinstance(response, int)
            )  # fmt: skip
            if not handled:
                break
            done += handled
        return done

    def _wait(self, seconds: float) -> None:
        """Until a wake-up, a stop, or ``seconds``."""
        deadline = time.monotonic() + seconds
        while not self.stopping and (remaining := deadline - time.monotonic()) > 0:
            if self._listening:
                try:
                    woken = notifications.wait_for_notification(min(remaining, WAIT_SLICE_SECONDS))
                except Exception as exc:  # noqa: BLE001  (a broken connection: the next step reconnects)
                    logger.warning("webhook worker: lost its wake-up connection (%s)", describe_failure(exc))
                    self._reset_connection()
                    return
                if woken:
                    self._drain_notifications()
                    return
            else:
                time.sleep(min(remaining, WAIT_SLICE_SECONDS))

    def _drain_notifications(self) -> None:
        """Forget wake-ups received while busy: the next step looks anyway."""
        if self._listening:
            notifications.forget_notifications()

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, WAIT_SLICE_SECONDS))

    def _reset_connection(self) -> None:
        self._listening = False
        with contextlib.suppress(Exception):  # already broken: it is being replaced
            connection.close()

    def _install_signal_handlers(self) -> dict:
        """SIGTERM and SIGINT only set the stop flag; returns the handlers they replace (restored on exit)."""

        def stop(signum, frame):
            logger.info("webhook worker: %s received, stopping after the current batch", signal.Signals(signum).name)
            self.stopping = True

        if threading.current_thread() is not threading.main_thread():
            return {}  # signals reach the main thread only (a worker run from a thread, in tests)
        return {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
