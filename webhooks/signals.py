"""The bridge between receiving webhooks and whatever keeps contacts.

``contact_events`` carries a batch of stored deliveries that providers normalized into ``ContactEvent``s
(``events=``, a list: one event inline, up to a worker's batch); receivers return a list with one
``Outcome`` per event, in order, or raise ``webhooks.events.EventFailed`` naming the event that failed. It
is sent inside the transaction that records the events' outcomes, so a receiver's writes and the events'
statuses commit or roll back together.

``subject_erased`` is sent by whoever erases a person's data (``provider=``, ``account_id=``,
``external_id=``); ``webhooks`` answers by redacting every stored payload of that contact and returns
how many it redacted.

``subject_reactivated`` is sent by whoever brings an erased contact back (a newer state fetched from a
provider whose deletions are soft; ``provider=``, ``account_id=``, ``external_id=``); ``webhooks`` answers
by storing that contact's later deliveries as received again. What was redacted stays redacted.

``contact_timeline`` is sent by whoever shows a contact (``provider=``, ``account_id=``, ``external_id=``,
and ``with_values=True`` to have each change's old and new values, never for an erased contact);
``webhooks`` answers with the contact's stored deliveries as a list of ``TimelineEntry``, newest first.
A read, so the contact's page never needs ``webhooks``'s models.

``subject_payloads`` is sent by whoever answers a person's access or portability request (``provider=``,
``account_id=``, ``external_id=``); ``webhooks`` answers with every stored delivery about that one contact, its
payload included (``with_payloads=False``: only their dates and types), as a list of ``StoredPayload``, oldest
first.

``worker_tick`` is sent by ``webhook_worker`` whenever it has no due event left (and at least every
``WEBHOOK_WORKER_POLL_SECONDS``): receivers do at most ``limit`` items of their own due work (``contacts``:
the look-ups of contacts due for a refresh) and return how many they handled, so that production runs one
kind of background process. The worker sends it with ``limit=1``, again while there is work, up to a
bound per tick, so that a SIGTERM never waits for more than the item in progress.

``events_exported`` is sent when staff export stored events (``user=``, ``export_format=`` "csv" or
"json", ``rows=``): the payloads in the file hold personal data, so whoever keeps the access trail records it.

``payload_read`` is sent while a request is answered, for each stored event read with its payload
(``provider=``, ``account_id=``, ``external_id=`` of its subject, ``row=`` the event): whoever keeps the access
trail names that contact as shown by the answer.
"""

from django.dispatch import Signal

contact_events = Signal()
subject_erased = Signal()
subject_reactivated = Signal()
contact_timeline = Signal()
subject_payloads = Signal()
worker_tick = Signal()
events_exported = Signal()
payload_read = Signal()
