"""A look-up that fails in the worker logs and stores the error's class, never its message."""

import pytest

from contacts.models import Contact
from tests.database_dump import found_in
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_failing_look_up_in_the_worker_records_the_error_class_not_its_message(
    worker_mode, fake_fetcher, monkeypatch, caplog, run_worker_once
):
    contact = ContactFactory(
        provider="fpt", account_id="48213", external_id="9917342", needs_refresh=True,
        name="Joana Prado Vilela", email="joana.pv@exemplo.com.br",
    )  # fmt: skip

    def crash(**ids):
        raise RuntimeError(f"provider answered 500 for {contact.email} ({contact.name})")

    monkeypatch.setattr("contacts.services.refresh.contact_fetcher", lambda provider: crash)
    run_worker_once()

    contact.refresh_from_db()
    assert (contact.refresh_attempts, contact.needs_refresh) == (1, True)
    assert "builtins.RuntimeError" in caplog.text
    assert found_in(caplog.text, [contact.name, contact.email]) == []
    assert Contact.objects.filter(refresh_due_at__isnull=False).count() == 1
