from django_tasks import task


@task()
def handle_floor_event(event_pk: int) -> None:
    """Never run by the benchmark: only enqueued, as ingest with the database backend enqueues its task."""
