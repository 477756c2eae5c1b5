import pytest

from contacts.models import Contact
from contacts.services import erase_contact
from tests.factories import ContactFactory


@pytest.fixture
def erase():
    """Erase a (new, unless given) contact as a webhook deletion would; returns the erasure record."""

    def run(contact: Contact | None = None, **overrides):
        options = {"requested_by": "usr_321", "requested_by_type": "attendant", "reason": "timely: deleted"}
        return erase_contact(contact=contact or ContactFactory(), **{**options, **overrides})

    return run
