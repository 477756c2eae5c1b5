import pytest
from django.db import connection, transaction

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


def bypass_erasure_log_guard(sql: str, params=()):
    """Run SQL on the erasure log as someone with database access would, getting past every guard:
    on PostgreSQL with triggers off for this transaction (``session_replication_role = replica``, which
    only a superuser can set); SQLite has no trigger to get past."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.fixture
def erasure_log_cleanup(transactional_db):
    """For transactional tests that erase: they commit records, and PostgreSQL refuses to TRUNCATE a log
    that holds any, so the flush after the test would fail. Empty the log past its guard first."""
    yield
    bypass_erasure_log_guard("DELETE FROM contacts_erasurerecord")
