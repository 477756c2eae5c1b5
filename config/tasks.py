"""The task backends the project runs on (``TASKS_BACKEND``)."""

from django.db import DEFAULT_DB_ALIAS, router
from django_tasks_db import DatabaseBackend as DjangoTasksDatabaseBackend
from django_tasks_db.compat import normalize_json

from config.sql import insert_row


class DatabaseBackend(DjangoTasksDatabaseBackend):
    """django-tasks-db's backend, its task row written with a statement built once.

    With the database backend every accepted webhook enqueues one task; the ORM compiling that INSERT anew
    for each was a fifth of ingest's Python time (docs/performance.md). Same row, same signals, same
    validation and ``task_enqueued`` as the parent's ``enqueue``; only the statement's construction differs."""

    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        if queue_database() != DEFAULT_DB_ALIAS:  # our statement runs on the default connection
            return super()._task_to_db_task(task, args, kwargs)
        db_task = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
        insert_row(db_task)
        return db_task


def queue_database() -> str:
    from django_tasks_db.models import DBTaskResult

    return router.db_for_write(DBTaskResult)
