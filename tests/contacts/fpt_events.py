"""Building FPT deliveries from the fixtures: a fresh event id, a chosen time, contact and location."""

import uuid
from datetime import UTC, datetime, timedelta

from contacts.models import Contact
from tests.conftest import load_fixture
from webhooks.events import ContactSnapshot

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


# The FitProTracker contact the look-up tests refresh, and the states a fake fetcher answers with.
KEY = ("fpt", "48213", "9917342")


def fpt_contact():
    return Contact.objects.get(provider="fpt", account_id="48213", external_id="9917342")


def snapshot(*, at: float, **fields) -> ContactSnapshot:
    return ContactSnapshot(fields=fields, as_of=BASE_TIME + timedelta(seconds=at))


FULL_STATE = {
    "name": "Maria Eduarda Silva",
    "phone": "(47) 99123-4567",
    "email": "maria.silva@exemplo.com.br",
    "tags": ["musculacao", "plano-anual"],
    "status_id": 3,
    "status": "Members",
    "sub_group_id": "5521",
    "can_sms": True,
    "can_email": False,
    "can_call": None,
    "assigned_to": "812",
    "last_sms_in_at": "2026-04-18T10:00:00+00:00",
    "last_sms_out_at": "2026-04-18T10:05:00+00:00",
    "last_call_at": None,
}
