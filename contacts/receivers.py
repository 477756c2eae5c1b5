from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_init
from django.dispatch import receiver

from contacts.access import Kind, note_history_entry_read, note_payload_read, record_access
from contacts.services.refresh import refresh_due_contacts
from contacts.services.sync import apply_contact_events
from webhooks.signals import contact_events, events_exported, payload_read, worker_tick

EVENT_EXPORT_KINDS = {"csv": Kind.EVENTS_CSV, "json": Kind.EVENTS_JSON}


@receiver(contact_events, dispatch_uid="contacts.apply_contact_events")
def on_contact_events(sender, *, events, **kwargs):
    return apply_contact_events(events=events)


@receiver(worker_tick, dispatch_uid="contacts.refresh_due_contacts")
def on_worker_tick(sender, *, limit: int, **kwargs) -> int:
    return refresh_due_contacts(limit=limit)


@receiver(events_exported, dispatch_uid="contacts.record_events_export")
def on_events_exported(sender, *, user, export_format, rows, **kwargs):
    record_access(user=user, kind=EVENT_EXPORT_KINDS[export_format], rows=rows)


@receiver(post_init, sender=LogEntry, dispatch_uid="contacts.note_history_entry_read")
def on_history_entry_read(sender, instance, **kwargs):
    note_history_entry_read(instance)


@receiver(payload_read, dispatch_uid="contacts.note_payload_read")
def on_payload_read(sender, *, provider, account_id, external_id, row, **kwargs):
    note_payload_read(provider=provider, account_id=account_id, external_id=external_id, row=row)
