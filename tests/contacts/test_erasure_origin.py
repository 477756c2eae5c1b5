"""Every erasure says why (``ErasureOrigin``), and what the record keeps of it decides what may bring the
contact back: a provider's deletion names its event, a data-subject request has none, a restore keeps the
exported record's."""

from datetime import UTC, datetime

import pytest

from contacts.models import Contact, ErasureRecord
from contacts.services import ErasureOrigin, erase_contact
from contacts.services.erasure import erase_locked_contact, erased_on_request
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

WHO = {"requested_by": "dpo", "requested_by_type": "cli", "reason": "data_subject_request", "reference": "DSR-12"}


def test_a_data_subject_request_records_no_event_and_is_final():
    contact = ContactFactory(name="Ana Costa")
    record = erase_contact(contact=contact, origin=ErasureOrigin.DATA_SUBJECT_REQUEST, **WHO)
    assert (record.event_id, record.deleted_at) == ("", None)
    assert erased_on_request(Contact.objects.get(pk=contact.pk))


def test_a_provider_deletion_records_its_event_and_may_be_undone():
    contact = ContactFactory(name="Ana Costa")
    deleted_at = datetime(2026, 4, 19, 16, tzinfo=UTC)
    record = erase_contact(
        contact=contact, origin=ErasureOrigin.PROVIDER_DELETION, event_id="evt_9", deleted_at=deleted_at, **WHO
    )
    assert (record.event_id, record.deleted_at) == ("evt_9", deleted_at)
    assert not erased_on_request(Contact.objects.get(pk=contact.pk))


@pytest.mark.parametrize(("exported_event_id", "final"), [("evt_9", False), ("", True)])
def test_a_restore_keeps_the_origin_of_the_exported_record(exported_event_id, final):
    contact = ContactFactory(name="Ana Costa")
    erase_contact(contact=contact, origin=ErasureOrigin.RESTORE, event_id=exported_event_id, **WHO)
    assert erased_on_request(Contact.objects.get(pk=contact.pk)) is final


@pytest.mark.parametrize(
    ("origin", "extra", "message"),
    [
        (ErasureOrigin.PROVIDER_DELETION, {}, "names its event"),
        (ErasureOrigin.DATA_SUBJECT_REQUEST, {"event_id": "evt_9"}, "no provider event"),
        (ErasureOrigin.DATA_SUBJECT_REQUEST, {"deleted_at": datetime(2026, 4, 19, tzinfo=UTC)}, "no provider event"),
    ],
)
def test_an_origin_without_what_it_implies_is_refused_before_anything_is_erased(origin, extra, message):
    contact = ContactFactory(name="Ana Costa")
    with pytest.raises(ValueError, match=message):
        erase_contact(contact=contact, origin=origin, **WHO, **extra)
    assert Contact.objects.get(pk=contact.pk).name == "Ana Costa"
    assert not ErasureRecord.objects.exists()


def test_the_locked_path_erases_the_callers_instance_in_place():
    contact = ContactFactory(name="Ana Costa")
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    erase_locked_contact(contact=locked, origin=ErasureOrigin.DATA_SUBJECT_REQUEST, **WHO)
    assert locked.is_erased and locked.name == ""
    assert Contact.objects.get(pk=contact.pk).is_erased
