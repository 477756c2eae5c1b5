import pytest
from django.contrib.auth.models import Group

from contacts.models import Contact
from contacts.permissions import COMPLIANCE_GROUP
from contacts.services import ErasureOrigin, erase_contact
from tests.contacts.data_subjects import person_with_neighbours
from tests.factories import ContactFactory, UserFactory


@pytest.fixture
def erase():
    """Erase a (new, unless given) contact as a data-subject request (no provider event); returns the record."""

    def run(contact: Contact | None = None, **overrides):
        options = {"requested_by": "usr_321", "requested_by_type": "attendant", "reason": "data_subject_request"}
        return erase_contact(
            origin=ErasureOrigin.DATA_SUBJECT_REQUEST, contact=contact or ContactFactory(), **{**options, **overrides}
        )

    return run


@pytest.fixture
def auditor(client):
    """A staff user in the Compliance group, logged in on ``client``."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=COMPLIANCE_GROUP))
    client.force_login(user)
    return user


@pytest.fixture
def person_and_neighbours():
    """The person, a homonym in another account, and a colleague sharing the person's account."""
    return person_with_neighbours()
