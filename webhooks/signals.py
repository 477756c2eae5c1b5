"""The signals of the bridge: things that happened, which receivers react to. Calls that need exactly one
answer (redact a contact's stored copies, read its timeline) are interfaces in ``webhooks.bridge``.

``contact_events`` carries a batch of stored deliveries that providers normalized into ``ContactEvent``s
(``events=``, a list: one event inline, up to a worker's batch). Exactly one receiver (``contacts``) answers
with a list holding one ``Outcome`` per event, in order, or raises ``webhooks.events.EventFailed`` naming the
event that failed; any other receiver only listens and answers None. It is sent inside the transaction that
records the events' outcomes, so a receiver's writes and the events' statuses commit or roll back together.

``worker_tick`` is sent by ``webhook_worker`` whenever it has no due event left (and at least every
``WEBHOOK_WORKER_POLL_SECONDS``): receivers do at most ``limit`` items of their own due work (``contacts``:
the look-ups of contacts due for a refresh) and return how many they handled, so that production runs one
kind of background process. The worker sends it with ``limit=1``, again while there is work, up to a
bound per tick, so that a SIGTERM never waits for more than the item in progress.
"""

from django.dispatch import Signal

contact_events = Signal()
worker_tick = Signal()
