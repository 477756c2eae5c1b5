"""Timely contact payloads shaped like the documented fixtures, with the ids and times a test chooses."""

from datetime import UTC, datetime, timedelta

from tests.conftest import load_fixture

BASE_TIME = datetime(2026, 4, 19, 14, 0, tzinfo=UTC)


def at(seconds: int) -> str:
    return (BASE_TIME + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def created(*, event_id: str, contact_id: str, seconds: int, workspace: str = "ws_abc123", **fields) -> dict:
    payload = load_fixture("timely", "contact.created")
    data = {**payload["data"], "contact_id": contact_id, "created_at": at(seconds), **fields}
    return {**payload, "event_id": event_id, "timestamp": at(seconds), "workspace_id": workspace, "data": data}


def updated(*, event_id: str, contact_id: str, seconds: int, changes: dict, workspace: str = "ws_abc123") -> dict:
    """``changes`` maps a field to its new value (``before`` is left out: no drift to record)."""
    payload = load_fixture("timely", "contact.updated")
    data = {
        **payload["data"],
        "contact_id": contact_id,
        "updated_at": at(seconds),
        "changes": {name: {"after": value} for name, value in changes.items()},
    }
    return {**payload, "event_id": event_id, "timestamp": at(seconds), "workspace_id": workspace, "data": data}


def deleted(*, event_id: str, contact_id: str, seconds: int, workspace: str = "ws_abc123") -> dict:
    payload = load_fixture("timely", "contact.deleted")
    data = {**payload["data"], "contact_id": contact_id, "deleted_at": at(seconds)}
    return {**payload, "event_id": event_id, "timestamp": at(seconds), "workspace_id": workspace, "data": data}
