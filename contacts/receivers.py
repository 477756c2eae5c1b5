from django.dispatch import receiver

from contacts.services import apply_contact_event
from webhooks.signals import contact_event


@receiver(contact_event, dispatch_uid="contacts.apply_contact_event")
def on_contact_event(sender, *, event, **kwargs):
    return apply_contact_event(event=event)
