from django_tasks import task

from webhooks.processing import process_event


@task()
def process_webhook_event(event_pk: int) -> str:
    """Apply one stored webhook event. Takes the event's id, never its payload."""
    return process_event(event_pk)
