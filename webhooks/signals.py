"""The bridge between receiving webhooks and whatever keeps contacts.

``contact_event`` is sent once per stored delivery that a provider normalized into a ``ContactEvent``
(``event=``); receivers return an ``Outcome``. It is sent inside the transaction that records the
event's outcome, so a receiver's writes and the event's status commit or roll back together.

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

``events_exported`` is sent when staff export stored events (``user=``, ``export_format=`` "csv" or
"json", ``rows=``): the payloads in the file hold personal data, so whoever keeps the access trail records it.
"""

from django.dispatch import Signal

contact_event = Signal()
subject_erased = Signal()
subject_reactivated = Signal()
contact_timeline = Signal()
subject_payloads = Signal()
events_exported = Signal()
