"""A contact value that cannot be stored (longer than its column, a NUL, a wrong type, out of range) is
skipped and named in the event's ``status_reason``; the rest of the event applies and the event ends
``processed``, never ``failed``. PostgreSQL refuses NUL in text and JSON: run on both databases."""

import json

import pytest

from contacts.models import Contact
from contacts.normalize import SkippedValue, normalize_field
from tests.conftest import fixture_with_data
from tests.contacts.fpt_events import status_change, sub_group_change
from webhooks.models import WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db

SKIPPED = "values that cannot be stored skipped: "


def created(**data):
    return fixture_with_data("timely", "contact.created", **data)


def updated(**changes):
    return fixture_with_data("timely", "contact.updated", changes=changes)


def delivered(post_webhook, provider, payload) -> WebhookEvent:
    response = post_webhook(provider, payload)
    assert response.status_code == 200, response.content
    return WebhookEvent.objects.get(pk=response.json()["event"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", {"first": "Ana", "last": "Costa"}),
        ("name", "A" * 256),
        ("name", "Ana\x00Costa"),
        ("name", 10**400),
        ("name", True),
        ("email", "ana\x00@exemplo.com.br"),
        ("email", ["ana@exemplo.com.br"]),
        ("phone", ["+5547991234567"]),
        ("phone", "9" * 65),
        ("tags", "cliente-vip"),
        ("tags", ["vip", 3]),
        ("tags", ["vip\x00"]),
        ("custom_fields", ["plano", "pro"]),
        ("custom_fields", {"plano\x00": "pro"}),
        ("custom_fields", {"plano": {"nivel": "pro\x00"}}),
        ("avatar_url", "https://cdn.exemplo.com.br/" + "a" * 1000),
        ("source", "whatsapp" * 5),
        ("assigned_to", {"id": "usr_1"}),
        ("remote_created_at", "last tuesday"),
    ],
)
def test_a_created_value_that_cannot_be_stored_is_skipped_and_the_rest_applies(post_webhook, field, value):
    data = {"created_at": value} if field == "remote_created_at" else {field: value}
    payload = created(updated_at="2026-04-19T14:30:00Z", **data)
    event = delivered(post_webhook, "timely", payload)
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.status_reason == SKIPPED + field
    assert field not in event.changed_fields
    contact = Contact.objects.get()
    assert getattr(contact, field) == Contact._meta.get_field(field).get_default()
    applied = {"name": "Ana Costa", "phone": "+5547991234567", "email": "ana.costa@exemplo.com.br"}
    assert {name: getattr(contact, name) for name in applied if name != field} == {
        name: value for name, value in applied.items() if name != field
    }


def test_an_update_skips_only_the_values_it_cannot_store(post_webhook):
    delivered(post_webhook, "timely", created())
    event = delivered(
        post_webhook,
        "timely",
        updated(
            name={"before": "Ana Costa", "after": "Ana Costa Ribeiro"},
            phone={"before": "+5547991234567", "after": ["+5547991234567"]},
            tags={"after": "cliente-vip"},
            custom_fields={"after": ["plano"]},
            email={"before": "x", "after": "ana\x00@exemplo.com.br"},
        ),
    )
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.status_reason.startswith(SKIPPED + "custom_fields, email, phone, tags")
    assert event.changed_fields == ["name"]
    contact = Contact.objects.get()
    assert (contact.name, contact.phone, contact.email) == ("Ana Costa Ribeiro", "+5547991234567",
                                                            "ana.costa@exemplo.com.br")  # fmt: skip


def test_a_change_without_an_after_value_is_named_unreadable_and_the_rest_applies(post_webhook):
    delivered(post_webhook, "timely", created())
    event = delivered(
        post_webhook,
        "timely",
        updated(name={"after": "Ana Ribeiro"}, email="ana@exemplo.com.br", phone={"before": "+5547991234567"}),
    )
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.status_reason == SKIPPED + "email, phone"
    assert Contact.objects.get().name == "Ana Ribeiro"


def test_a_before_value_that_could_never_be_stored_is_drift(post_webhook):
    delivered(post_webhook, "timely", created())
    event = delivered(post_webhook, "timely", updated(name={"before": {"x": 1}, "after": "Ana Ribeiro"}))
    assert (event.status, event.drift, event.changed_fields) == (WebhookEventStatus.PROCESSED, ["name"], ["name"])


@pytest.mark.parametrize("status_id", [10**400, 2**31, -1, "3", [3], {"id": 3}, None])
def test_an_fpt_status_that_cannot_be_stored_is_skipped_not_failed(post_webhook, status_id):
    event = delivered(post_webhook, "fpt", status_change(status_id, previous=[2]))
    assert event.status == WebhookEventStatus.PROCESSED
    assert event.status_reason.startswith(SKIPPED)
    assert event.status_reason == SKIPPED + "status, status_id"  # the label goes with its id
    contact = Contact.objects.get()
    assert (contact.status_id, contact.status) == (None, "")


@pytest.mark.parametrize("sub_group", ["5" * 65, "55\x0021", {"id": 5521}, True, 10**400])
def test_an_fpt_sub_group_that_cannot_be_stored_is_skipped_not_failed(post_webhook, sub_group):
    event = delivered(post_webhook, "fpt", sub_group_change(sub_group))
    assert (event.status, event.status_reason) == (WebhookEventStatus.PROCESSED, SKIPPED + "sub_group_id")
    assert Contact.objects.get().sub_group_id == ""


def test_an_fpt_sub_group_given_as_a_number_is_stored_as_its_string(post_webhook):
    delivered(post_webhook, "fpt", sub_group_change(5521))
    assert Contact.objects.get().sub_group_id == "5521"


def test_a_number_too_large_for_any_json_column_is_refused_at_the_door(post_webhook):
    body = json.dumps(created(custom_fields={"x": "HUGE"})).replace('"HUGE"', "1e400").encode()
    response = post_webhook("timely", body)
    assert response.status_code == 400
    assert response.json() == {"error": "body contains a number too large to store"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "x" * 256), ("phone", "x\x00"), ("status_id", 2**31), ("custom_fields", {"k": float("inf")})],
)
def test_normalize_names_the_field_and_never_quotes_the_value(field, value):
    with pytest.raises(SkippedValue) as refused:
        normalize_field(field, value)
    assert str(refused.value).startswith(field)
    assert "xxx" not in str(refused.value)
