"""The bridge's interfaces have exactly one implementation each: ``manage.py check`` says so when one has none
or two, and asking raises rather than carry on with nothing (an erasure would leave every payload unredacted
while its record said 0). ``contact_events`` has one receiver that answers with the batch's outcomes."""

from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from contacts.models import Contact, ErasureRecord
from contacts.receivers import on_contact_events
from contacts.requests import subject_export
from contacts.selectors import contact_timeline
from contacts.services import erase_on_request
from tests.factories import ContactFactory, WebhookEventFactory
from tests.webhooks.timely_payloads import created
from webhooks.bridge import (
    CHECK_ID,
    AccessTrail,
    BridgeMisconfigured,
    StoredEvents,
    access_trail,
    check_bridge,
    register_access_trail,
    register_stored_events,
    stored_events,
    unregister,
)
from webhooks.events import Outcome, OutcomeStatus
from webhooks.models import ErasedSubject, WebhookEvent, WebhookEventStatus
from webhooks.signals import contact_events

REGISTER = {StoredEvents: register_stored_events, AccessTrail: register_access_trail}
ACCESSOR = {StoredEvents: stored_events, AccessTrail: access_trail}
INTERFACES = pytest.mark.parametrize("interface", [StoredEvents, AccessTrail], ids=lambda i: i.__name__)


@contextmanager
def withdrawn(interface):
    implementation = ACCESSOR[interface]()
    unregister(implementation)
    try:
        yield
    finally:
        REGISTER[interface](implementation)


@contextmanager
def a_second_implementation(interface):
    second = type(ACCESSOR[interface]())()
    with pytest.raises(BridgeMisconfigured, match=f"{interface.__name__} is registered 2 times"):
        REGISTER[interface](second)
    try:
        yield
    finally:
        unregister(second)


def check_messages():
    problems = check_bridge(None)
    assert {problem.id for problem in problems} <= {CHECK_ID}
    return [problem.msg for problem in problems]


def test_each_interface_has_its_one_implementation_as_installed():
    assert check_messages() == []
    assert isinstance(stored_events(), StoredEvents)
    assert isinstance(access_trail(), AccessTrail)
    call_command("check")  # raises SystemCheckError on any error


@INTERFACES
def test_none_registered_fails_the_check_and_the_accessor_names_what_is_missing(interface):
    with withdrawn(interface):
        assert check_messages() == [
            f"no webhooks.bridge.{interface.__name__} is registered; "
            + ("webhooks (WebhooksConfig.ready)" if interface is StoredEvents else "contacts (ContactsConfig.ready)")
            + " registers the one implementation"
        ]
        with pytest.raises(SystemCheckError, match=CHECK_ID):
            call_command("check")
        with pytest.raises(BridgeMisconfigured, match=f"no webhooks.bridge.{interface.__name__} is registered"):
            ACCESSOR[interface]()
    assert check_messages() == []  # put back as it was


@INTERFACES
def test_a_second_registration_is_refused_and_fails_the_check(interface):
    first = ACCESSOR[interface]()
    with a_second_implementation(interface):
        assert check_messages() == [
            f"webhooks.bridge.{interface.__name__} is registered 2 times; exactly one implementation may be"
        ]
        with pytest.raises(SystemCheckError, match=CHECK_ID):
            call_command("check")
        with pytest.raises(BridgeMisconfigured, match="registered 2 times"):
            ACCESSOR[interface]()
    assert ACCESSOR[interface]() is first


def test_what_does_not_implement_the_interface_is_not_registered():
    class Redactor:
        def rebuild_subject_copies(self, *, provider, account_id, external_id):
            return 0

    with pytest.raises(TypeError, match="Redactor does not implement StoredEvents"):
        register_stored_events(Redactor())
    assert check_messages() == []


def test_contact_events_without_its_receiver_fails_the_check():
    assert contact_events.disconnect(dispatch_uid="contacts.apply_contact_events")
    try:
        assert check_messages() == [
            "webhooks.signals.contact_events has no receiver; one must answer each batch with its outcomes"
        ]
        with pytest.raises(SystemCheckError, match=CHECK_ID):
            call_command("check")
    finally:
        contact_events.connect(on_contact_events, dispatch_uid="contacts.apply_contact_events")
    assert check_messages() == []


@pytest.mark.django_db
def test_two_receivers_answering_outcomes_fail_the_event_rather_than_merge_them(post_webhook):
    def another(sender, *, events, **kwargs):
        return [Outcome(status=OutcomeStatus.IGNORED)] * len(events)

    contact_events.connect(another, dispatch_uid="tests.another_outcome_receiver")
    try:
        response = post_webhook("timely", created(event_id="evt_1", contact_id="cont_1", seconds=0, name="Ana"))
    finally:
        contact_events.disconnect(dispatch_uid="tests.another_outcome_receiver")
    assert response.status_code == 200  # stored: the event waits, failed, for a reprocess
    event = WebhookEvent.objects.get(pk=response.json()["event"])
    assert event.status == WebhookEventStatus.FAILED
    assert "BridgeMisconfigured" in event.status_reason
    assert not Contact.objects.filter(external_id="cont_1").exists()


@pytest.mark.django_db
class TestWithoutStoredEvents:
    def test_an_erasure_raises_and_leaves_nothing_half_done(self):
        contact = ContactFactory(name="Ana Costa")
        event = WebhookEventFactory(external_id=contact.external_id, account_id=contact.account_id)
        with withdrawn(StoredEvents), pytest.raises(BridgeMisconfigured, match="no webhooks.bridge.StoredEvents"):
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-12")
        assert Contact.objects.get(pk=contact.pk).name == "Ana Costa"
        assert not ErasureRecord.objects.exists()
        assert not ErasedSubject.objects.exists()
        event.refresh_from_db()
        assert event.redacted_at is None

    def test_two_implementations_are_refused_too_rather_than_redact_twice(self):
        contact = ContactFactory(name="Ana Costa")
        with a_second_implementation(StoredEvents), pytest.raises(BridgeMisconfigured, match="registered 2 times"):
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-12")
        assert Contact.objects.get(pk=contact.pk).name == "Ana Costa"
        assert not ErasureRecord.objects.exists()

    def test_the_message_names_no_personal_data(self):
        contact = ContactFactory(name="Ana Costa", email="ana@exemplo.com.br", external_id="cont_456")
        with withdrawn(StoredEvents), pytest.raises(BridgeMisconfigured) as raised:
            erase_on_request(contact=contact, requested_by="dpo", requested_by_type="cli", reference="DSR-12")
        assert "Ana" not in str(raised.value) and "exemplo" not in str(raised.value)
        assert "cont_456" not in str(raised.value)

    def test_a_timeline_and_an_export_raise_instead_of_showing_nothing(self):
        contact = ContactFactory()
        WebhookEventFactory(external_id=contact.external_id, account_id=contact.account_id)
        assert len(contact_timeline(contact)) == 1
        assert len(subject_export(contact)["events"]) == 1
        with withdrawn(StoredEvents):
            with pytest.raises(BridgeMisconfigured, match="StoredEvents"):
                contact_timeline(contact)
            with pytest.raises(BridgeMisconfigured, match="StoredEvents"):
                subject_export(contact)
