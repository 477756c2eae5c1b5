"""config.tasks.DatabaseBackend writes django-tasks-db's row itself: the row, the signal and the result must
be exactly what django-tasks-db's own backend gives."""

import pytest
from django.utils import timezone
from django_tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend as DjangoTasksDatabaseBackend
from django_tasks_db.models import DBTaskResult

from config.tasks import DatabaseBackend
from webhooks.tasks import process_webhook_event

pytestmark = pytest.mark.django_db
OPTIONS = {"QUEUES": [], "OPTIONS": {}}


def columns(row: DBTaskResult) -> dict:
    values = {field.attname: getattr(row, field.attname) for field in DBTaskResult._meta.concrete_fields}
    values.pop("id"), values.pop("enqueued_at")
    return values


@pytest.mark.parametrize("run_after", [None, "later"])
def test_the_row_is_the_one_django_tasks_db_writes(run_after, settings):
    settings.TASKS = {"default": {"BACKEND": "config.tasks.DatabaseBackend"}}
    task = process_webhook_event
    if run_after:
        task = task.using(run_after=timezone.now() + timezone.timedelta(minutes=5))
    ours = DatabaseBackend("default", OPTIONS).enqueue(task, (41,), {})
    theirs = DjangoTasksDatabaseBackend("default", OPTIONS).enqueue(task, (41,), {})

    stored_ours, stored_theirs = DBTaskResult.objects.get(pk=ours.id), DBTaskResult.objects.get(pk=theirs.id)
    assert columns(stored_ours) == columns(stored_theirs)
    assert stored_ours.args_kwargs == {"args": [41], "kwargs": {}} and stored_ours.status == "READY"
    assert stored_ours.enqueued_at is not None
    assert (ours.args, ours.status, ours.task.func) == ([41], theirs.status, theirs.task.func)


def test_enqueueing_sends_task_enqueued_with_the_stored_result():
    received = []

    def on_enqueued(sender, task_result, **kwargs):
        received.append(task_result)

    task_enqueued.connect(on_enqueued)
    try:
        result = DatabaseBackend("default", OPTIONS).enqueue(process_webhook_event, (7,), {})
    finally:
        task_enqueued.disconnect(on_enqueued)

    assert [r.id for r in received] == [result.id]
    assert DBTaskResult.objects.get(pk=result.id).task_result.args == [7]


def test_a_queue_routed_to_another_database_is_left_to_django_tasks_db(monkeypatch):
    """Our statement is sent on the default connection; a router pointing the queue elsewhere gets the
    parent's ORM insert, which honours it."""
    parents_insert, calls = DjangoTasksDatabaseBackend._task_to_db_task, []

    def recording_parent_insert(self, task, args, kwargs):
        calls.append(args)
        return parents_insert(self, task, args, kwargs)

    monkeypatch.setattr("config.tasks.queue_database", lambda: "elsewhere")
    monkeypatch.setattr(DjangoTasksDatabaseBackend, "_task_to_db_task", recording_parent_insert)

    result = DatabaseBackend("default", OPTIONS).enqueue(process_webhook_event, (9,), {})

    assert calls == [(9,)]
    assert DBTaskResult.objects.get(pk=result.id).args_kwargs == {"args": [9], "kwargs": {}}
