"""Building FPT deliveries from the fixtures: a fresh event id, a chosen time, contact and location."""

import uuid
from datetime import UTC, datetime, timedelta

from tests.conftest import load_fixture

BASE_TIME = datetime(2026, 4, 19, 15, 0, tzinfo=UTC)


def fpt_event(name: str, *, at: float = 0, contact: int = 9917342, location: int = 48213, event_id=None, **data):
    """The ``name`` fixture, ``at`` seconds after BASE_TIME, with ``data`` keys overridden."""
    payload = load_fixture("fpt", name)
    stamp = BASE_TIME + timedelta(seconds=at)
    payload["eventId"] = event_id or uuid.uuid4().hex
    payload["eventTimestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
    payload["locationId"] = location
    payload["data"] = {**payload["data"], "contactId": contact, **data}
    return payload


def status_change(new, *, previous=None, **kwargs):
    return fpt_event("contact.status_changed", previousStatusId=previous, newStatusId=new, **kwargs)


def sub_group_change(new, *, previous=None, **kwargs):
    return fpt_event("contact.sub_group_changed", previousSubGroupId=previous, newSubGroupId=new, **kwargs)
