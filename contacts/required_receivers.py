"""The signals of the bridge that contacts asks a question and needs exactly one answer from.

A signal with no receiver answers nothing, silently: an erasure would leave every stored payload
unredacted and record 0, a contact's page would show no events, a person's export would lack their
payloads. Two receivers would count or list everything twice. So ``manage.py check`` (``contacts.checks``)
refuses anything but one receiver for each, and ``the_one_answer`` raises rather than carry on without it
(production servers do not run the checks).
"""

from dataclasses import dataclass

from django.dispatch import Signal

from contacts.models import Contact
from webhooks.signals import contact_timeline, subject_erased, subject_payloads


@dataclass(frozen=True)
class RequiredReceiver:
    name: str  # in webhooks.signals
    signal: Signal
    does: str  # what its one receiver does
    check_id: str  # the check that reports it missing or doubled


REQUIRED_RECEIVERS = (
    RequiredReceiver("subject_erased", subject_erased, "redacts an erased contact's stored payloads", "contacts.E003"),
    RequiredReceiver("contact_timeline", contact_timeline, "lists a contact's stored events", "contacts.E004"),
    RequiredReceiver("subject_payloads", subject_payloads, "gives a person's stored payloads", "contacts.E005"),
)
_NAMES = {required.signal: required.name for required in REQUIRED_RECEIVERS}


class ReceiverMissing(RuntimeError):
    """A signal contacts relies on has no receiver connected, or more than one."""


def connected_receivers(signal: Signal) -> int:
    """How many receivers ``signal`` reaches when contacts sends it (Django has no public count)."""
    sync_receivers, async_receivers = signal._live_receivers(Contact)
    return len(sync_receivers) + len(async_receivers)


def the_one_answer(signal: Signal, **kwargs):
    """Send ``signal`` about a contact (``sender=Contact``) and return its one receiver's answer."""
    answers = signal.send(sender=Contact, **kwargs)
    if len(answers) != 1:
        raise ReceiverMissing(
            f"webhooks.signals.{_NAMES.get(signal, signal)} reached {len(answers)} receivers, expected exactly one"
        )
    return answers[0][1]
