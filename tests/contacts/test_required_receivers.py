"""The signals contacts asks a question need exactly one answer: ``manage.py check`` says so when they have
none or two, and an erasure, a contact's timeline or a person's export raises rather than carry on with
nothing (payloads left unredacted while the log said 0)."""

from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from contacts.checks import check_required_receivers
from contacts.models import Contact, ErasureRecord
from contacts.requests import subject_export
from contacts.required_receivers import REQUIRED_RECEIVERS, ReceiverMissing
from contacts.selectors import contact_timeline
from contacts.services import erase_on_request
from tests.factories import ContactFactory, WebhookEventFactory
from webhooks import receivers as webhooks_receivers
from webhooks.signals import contact_timeline as contact_timeline_signal
from webhooks.signals import subject_erased, subject_payloads

# What webhooks connects, to put back after a test took it away.
CONNECTED = {
    "subject_erased": (subject_erased, webhooks_receivers.redact_stored_payloads, "webhooks.redact_stored_payloads"),
    "contact_timeline": (
        contact_timeline_signal,
        webhooks_receivers.contact_timeline_entries,
        "webhooks.contact_timeline",
    ),
    "subject_payloads": (subject_payloads, webhooks_receivers.contact_payloads, "webhooks.subject_payloads"),
}


@contextmanager
def disconnected(name):
    signal, receiver, uid = CONNECTED[name]
    assert signal.disconnect(dispatch_uid=uid)
    try:
        yield
    finally:
        signal.connect(receiver, dispatch_uid=uid)


@contextmanager
def a_second_receiver(name):
    signal = CONNECTED[name][0]

    def another(sender, **kwargs):
        return 0

    signal.connect(another, dispatch_uid="tests.a_second_receiver")
    try:
        yield
    finally:
        signal.disconnect(dispatch_uid="tests.a_second_receiver")


def problem_ids():
    return [problem.id for problem in check_required_receivers(None)]


def test_every_required_signal_has_its_one_receiver_as_installed():
    assert {required.name for required in REQUIRED_RECEIVERS} == set(CONNECTED)
    assert problem_ids() == []
    call_command("check")  # raises SystemCheckError on any error


@pytest.mark.parametrize(
    ("name", "check_id"),
    [("subject_erased", "contacts.E003"), ("contact_timeline", "contacts.E004"), ("subject_payloads", "contacts.E005")],
)
def test_no_receiver_or_two_fail_the_check(name, check_id):
    with disconnected(name):
        assert problem_ids() == [check_id]
        with pytest.raises(SystemCheckError, match=check_id):
            call_command("check")
    with a_second_receiver(name):
        problems = check_required_receivers(None)
        assert [problem.id for problem in problems] == [check_id]
        assert f"webhooks.signals.{name} has 2 receivers connected" in problems[0].msg
    assert problem_ids() == []  # put back as it was


@pytest.mark.django_db
class TestWithoutTheRedactor:
    def test_an_erasure_raises_and_leaves_nothing_half_done(self):
        contact = ContactFactory(name="Ana Costa")
        event = WebhookEventFactory(external_id=contact.external_id, account_id=contact.account_id)
        with disconnected("subject_erased"), pytest.raises(ReceiverMissing, match="subject_erased reached 0"):
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        assert Contact.objects.get(pk=contact.pk).name == "Ana Costa"
        assert not ErasureRecord.objects.exists()
        event.refresh_from_db()
        assert event.redacted_at is None

    def test_two_redactors_are_refused_too_rather_than_counted_twice(self):
        contact = ContactFactory(name="Ana Costa")
        with a_second_receiver("subject_erased"), pytest.raises(ReceiverMissing, match="reached 2"):
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        assert not ErasureRecord.objects.exists()

    def test_the_message_names_no_personal_data(self):
        contact = ContactFactory(name="Ana Costa", email="ana@exemplo.com.br", external_id="cont_456")
        with disconnected("subject_erased"), pytest.raises(ReceiverMissing) as raised:
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-1")
        assert "Ana" not in str(raised.value) and "exemplo" not in str(raised.value)


@pytest.mark.django_db
def test_a_timeline_and_an_export_without_their_receiver_raise_instead_of_showing_nothing():
    contact = ContactFactory()
    WebhookEventFactory(external_id=contact.external_id, account_id=contact.account_id)
    assert len(contact_timeline(contact)) == 1
    with disconnected("contact_timeline"), pytest.raises(ReceiverMissing, match="contact_timeline"):
        contact_timeline(contact)
    assert len(subject_export(contact)["events"]) == 1
    with disconnected("subject_payloads"), pytest.raises(ReceiverMissing, match="subject_payloads"):
        subject_export(contact)
