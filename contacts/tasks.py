"""Contact look-ups as tasks: ids in, retried with backoff.

A failed look-up records when to retry on the contact (``refresh_due_at``). Backends that can defer
(``django-tasks-db``: ``run_after``) get the retry queued for that time; the immediate backend cannot
defer, so there ``manage.py refresh_contacts`` (run from cron) picks up what is due.
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from contacts import services


class ContactTaskError(Exception):
    """What a failed look-up task carries: the original error's class, never its message.

    Task backends keep failures (``django-tasks-db`` stores the traceback, both backends log it), and a
    message may quote the contact's data, out of reach of any later erasure.
    """


@task()
def refresh_contact(contact_pk: int) -> str:
    """Look one contact up with its provider's fetcher. Takes the contact's id, never data."""
    try:
        result = services.refresh_contact(contact_id=contact_pk)
    except Exception as exc:
        # `from None` drops the original (and its message) from the stored and logged traceback.
        raise ContactTaskError(f"{type(exc).__module__}.{type(exc).__qualname__}") from None
    if result.retry_in is not None:
        enqueue_refresh(contact_pk, delay=result.retry_in)
    return result.status


def enqueue_refresh(contact_pk: int, *, delay: int | None = None) -> bool:
    """Queue a look-up now or after ``delay`` seconds; False when the backend cannot defer it (the
    contact's ``refresh_due_at`` then waits for ``refresh_contacts``)."""
    queued_task = refresh_contact
    if delay:
        if not refresh_contact.get_backend().supports_defer:
            return False
        queued_task = refresh_contact.using(run_after=timezone.now() + timedelta(seconds=delay))
    queued_task.enqueue(contact_pk)
    return True
