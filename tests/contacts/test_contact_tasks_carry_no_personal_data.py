"""The look-up task's stored failures (django-tasks-db) never quote data, whatever the error said."""

import pytest
from django_tasks_db.models import DBTaskResult

from contacts.tasks import refresh_contact
from tests.database_dump import found_in
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_failing_look_up_task_stores_the_error_class_not_its_message(database_tasks, monkeypatch, caplog):
    contact = ContactFactory(name="Joana Prado Vilela", email="joana.pv@exemplo.com.br")

    def crash(*, contact_id):
        raise RuntimeError(f"provider answered 500 for {contact.email} ({contact.name})")

    monkeypatch.setattr("contacts.services.refresh_contact", crash)
    refresh_contact.enqueue(contact.pk)
    database_tasks()
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED"
    assert task.args_kwargs == {"args": [contact.pk], "kwargs": {}}
    assert task.exception_class_path == "contacts.tasks.ContactTaskError"
    assert "ContactTaskError: builtins.RuntimeError" in task.traceback
    assert found_in(task.traceback, [contact.name, contact.email]) == []
    assert found_in(caplog.text, [contact.name, contact.email]) == []
