from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_init
from django.dispatch import receiver

from contacts.access import note_history_entry_read
from contacts.services.refresh import refresh_due_contacts
from contacts.services.sync import apply_contact_events
from webhooks.signals import contact_events, worker_tick


@receiver(contact_events, dispatch_uid="contacts.apply_contact_events")
def on_contact_events(sender, *, events, **kwargs):
    return apply_contact_events(events=events)


@receiver(worker_tick, dispatch_uid="contacts.refresh_due_contacts")
def on_worker_tick(sender, *, limit: int, **kwargs) -> int:
    return refresh_due_contacts(limit=limit)


@receiver(post_init, sender=LogEntry, dispatch_uid="contacts.note_history_entry_read")
def on_history_entry_read(sender, instance, **kwargs):
    note_history_entry_read(instance)
