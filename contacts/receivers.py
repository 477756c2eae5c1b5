from django.dispatch import receiver

from contacts.access import Kind, record_access
from contacts.services.refresh import refresh_due_contacts
from contacts.services.sync import apply_contact_events
from webhooks.signals import contact_events, events_exported, worker_tick

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
