from django_tasks import task

from webhooks.processing import describe_failure, process_event


class WebhookTaskError(Exception):
    """What a task failure carries: the original error's class and where it was raised, never its message.

    Task backends keep failures (``django-tasks-db`` stores the traceback in ``DBTaskResult``, both backends
    log it), and an exception's message may quote a payload value, out of reach of any later erasure.
    """


@task()
def process_webhook_event(event_pk: int) -> str:
    """Apply one stored webhook event. Takes the event's id, never its payload; returns its status."""
    try:
        return process_event(event_pk)
    except Exception as exc:
        # `from None` drops the original (and its message) from the stored and logged traceback.
        raise WebhookTaskError(describe_failure(exc)) from None
