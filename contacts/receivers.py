from django.dispatch import receiver

from contacts.access import Kind, record_access
from contacts.services import apply_contact_event
from webhooks.signals import contact_event, events_exported

EVENT_EXPORT_KINDS = {"csv": Kind.EVENTS_CSV, "json": Kind.EVENTS_JSON}


@receiver(contact_event, dispatch_uid="contacts.apply_contact_event")
def on_contact_event(sender, *, event, **kwargs):
    return apply_contact_event(event=event)


@receiver(events_exported, dispatch_uid="contacts.record_events_export")
def on_events_exported(sender, *, user, export_format, rows, **kwargs):
    record_access(user=user, kind=EVENT_EXPORT_KINDS[export_format], rows=rows)
