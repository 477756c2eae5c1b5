"""The data-subject request desk: the register, deadlines and the person's export (corrections, erasure
from a request, retention and the API: test_data_subject_erasure.py)."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import ContactAccess, DataSubjectExport, DataSubjectRequest
from contacts.permissions import COMPLIANCE_GROUP
from contacts.requests import (
    desk_counts,
    subject_export,
    subject_export_json,
)
from tests.contacts.data_subjects import Kind, Status, event_about, new_request
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestRegister:
    def test_due_at_defaults_to_the_configured_deadline(self):
        received = timezone.now() - timedelta(days=1)
        with override_settings(DSR_DEADLINE_DAYS=15):
            request = DataSubjectRequest.objects.create(kind=Kind.ACCESS, received_at=received)
        assert request.due_at == received + timedelta(days=15)
        with override_settings(DSR_DEADLINE_DAYS=5):
            other = DataSubjectRequest.objects.create(kind=Kind.ACCESS, received_at=received)
        assert other.due_at == received + timedelta(days=5)

    def test_compliance_opens_a_request_for_contacts_and_closing_records_who_and_when(self, client, auditor):
        contact = ContactFactory()
        response = client.post("/admin/contacts/datasubjectrequest/add/", {
            "kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
            "due_at_1": "", "reference": "TICKET-881", "contacts": [contact.pk], "status": "open",
            "refusal_reason": "",
        })  # fmt: skip
        assert response.status_code == 302, response.content
        request = DataSubjectRequest.objects.get()
        assert list(request.contacts.all()) == [contact]
        assert request.due_at - request.received_at == timedelta(days=15)
        assert request.closed_at is None and request.handled_by == auditor

        response = client.post(f"/admin/contacts/datasubjectrequest/{request.pk}/change/", {
            "kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00",
            "due_at_0": "2026-12-05", "due_at_1": "10:00:00", "reference": "TICKET-881", "contacts": [contact.pk],
            "status": "answered", "refusal_reason": "",
        })  # fmt: skip
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == Status.ANSWERED and request.closed_at is not None
        assert request.handled_by == auditor

    @pytest.mark.parametrize(
        ("field", "text", "error"),
        [
            # The reference reaches the erasure log: a ticket id or nothing, whatever the text holds.
            ("reference", "Ana Costa called", "Only a ticket id"),
            ("reference", "ana.costa@exemplo.com.br", "Only a ticket id"),
            ("reference", "Ana Costa Ribeiro", "Only a ticket id"),
            ("reference", "CPF-123.456.789-09", "Only a ticket id"),
            ("reference", "TEL-47-991234567", "Only a ticket id"),
            # The refusal reason stays on the request, and an erasure of the person blanks it.
            ("refusal_reason", "47 99123-4567", "quotes the contact"),
        ],
    )
    def test_free_text_that_could_describe_the_person_is_refused(self, client, auditor, field, text, error):
        contact = ContactFactory(name="Ana Costa", email="ana.costa@exemplo.com.br", phone="+5547991234567")
        values = {"kind": "access", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
                  "due_at_1": "", "reference": "TK-1", "contacts": [contact.pk], "status": "refused",
                  "refusal_reason": "identity not confirmed", field: text}  # fmt: skip
        response = client.post("/admin/contacts/datasubjectrequest/add/", values)
        assert response.status_code == 200
        assert error in response.context["adminform"].form.errors[field][0]
        assert not DataSubjectRequest.objects.exists()

    def test_refusing_needs_a_reason(self, client, auditor):
        response = client.post("/admin/contacts/datasubjectrequest/add/", {
            "kind": "erasure", "received_at_0": "2026-11-20", "received_at_1": "10:00:00", "due_at_0": "",
            "due_at_1": "", "reference": "", "status": "refused", "refusal_reason": "",
        })  # fmt: skip
        assert response.status_code == 200
        assert "refusal_reason" in response.context["adminform"].form.errors

    def test_overdue_and_due_soon_filters_and_dashboard_panel(self, client, auditor):
        now = timezone.now()
        late = new_request(received_at=now - timedelta(days=20))
        soon = new_request(received_at=now - timedelta(days=14))
        later = new_request(received_at=now)
        closed_late = new_request(
            received_at=now - timedelta(days=30), status=Status.ANSWERED, closed_at=now - timedelta(days=1)
        )
        listing = client.get("/admin/contacts/datasubjectrequest/?deadline=overdue")
        assert [r.pk for r in listing.context["cl"].result_list] == [late.pk]
        listing = client.get("/admin/contacts/datasubjectrequest/?deadline=due_soon")
        assert [r.pk for r in listing.context["cl"].result_list] == [soon.pk]
        counts = desk_counts(now=now)
        assert (counts["open"], counts["overdue"], counts["due_soon"]) == (3, 1, 1)
        assert [r.pk for r in counts["urgent"]] == [late.pk, soon.pk]
        home = client.get("/admin/")
        panel = home.content.decode().split('id="dashboard-requests"')[1]
        assert "1 overdue" in panel and f"#{late.pk}" in panel and f"#{later.pk}" not in panel
        assert f"#{closed_late.pk}" not in panel

    def test_the_request_page_reads_no_payload_and_its_queries_do_not_grow_with_events(self, client, auditor):
        contact = ContactFactory()
        request = new_request(contact)
        event_about(contact)

        def page_queries():
            with CaptureQueriesContext(connection) as captured:
                assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").status_code == 200
            return [query["sql"] for query in captured.captured_queries]

        page_queries()  # the session's first request does its own writes
        few = page_queries()
        for _ in range(5):
            event_about(contact)
        many = page_queries()
        assert len(many) == len(few)
        assert not [sql for sql in many if '"webhooks_webhookevent"."body"' in sql]

    def test_the_contact_search_tells_homonyms_apart_and_is_in_the_access_trail(self, client, auditor):
        first = ContactFactory(name="Ana Costa", external_id="cont_1")
        second = ContactFactory(name="Ana Costa", account_id="ws_other", external_id="cont_2")
        ContactFactory(name="Bruno Lima")
        search = {"app_label": "contacts", "model_name": "datasubjectrequest", "field_name": "contacts"}
        response = client.get("/admin/autocomplete/", {"term": "ana costa", **search})
        assert response.status_code == 200
        labels = {row["id"]: row["text"] for row in response.json()["results"]}
        assert labels == {
            str(first.pk): f"Ana Costa — #{first.pk} timely / ws_abc123 / cont_1",
            str(second.pk): f"Ana Costa — #{second.pk} timely / ws_other / cont_2",
        }
        trail = ContactAccess.objects.filter(kind=ContactAccess.Kind.CONTACT_SEARCH).order_by("contact_id")
        assert [(row.user, row.contact_id, row.rows, row.filters["term"]) for row in trail] == [
            (auditor, first.pk, 2, "[not kept]"),
            (auditor, second.pk, 2, "[not kept]"),
        ]

    def test_sales_staff_see_nothing_of_the_desk(self, client):
        sales = UserFactory(is_staff=True)
        sales.user_permissions.add(
            *Group.objects.get(name=COMPLIANCE_GROUP).permissions.filter(codename="view_contact")
        )
        client.force_login(sales)
        request = new_request(ContactFactory())
        assert client.get("/admin/contacts/datasubjectrequest/").status_code == 403
        assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/").status_code == 403
        contact = request.contacts.get()
        assert (
            client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{contact.pk}/json/").status_code == 403
        )
        assert 'id="dashboard-requests"' not in client.get("/admin/").content.decode()


class TestExport:
    def test_holds_the_persons_fields_notes_and_payloads_and_nothing_of_anyone_else(self, person_and_neighbours):
        person, homonym, colleague = person_and_neighbours
        document = subject_export(person)
        assert document["contact"]["id"] == person.pk
        assert document["fields"]["email"] == person.email and document["fields"]["phone"] == person.phone
        assert document["notes"] == {"notes": "prefers mornings"}
        assert len(document["events"]) == 2
        assert all(event["payload"]["data"]["contact_id"] == person.external_id for event in document["events"])
        assert all(event["received_at"] is not None for event in document["events"])
        text = json.dumps(document, default=str)
        for other in (homonym, colleague):
            for value in (other.email, other.phone, other.external_id, other.notes or "VIP"):
                assert value not in text
        assert "Bruno" not in text

    def test_one_click_json_is_recorded_on_the_request_and_in_the_access_trail(
        self, client, auditor, person_and_neighbours
    ):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        response = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/json/")
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
        assert "attachment" in response["Content-Disposition"]
        document = json.loads(response.content)
        assert document["request"]["id"] == request.pk and document["fields"]["name"] == "Ana Costa"
        assert homonym.email not in response.content.decode()
        export = DataSubjectExport.objects.get()
        assert (export.request, export.contact, export.format, export.exported_by) == (
            request,
            person,
            "json",
            auditor,
        )
        trail = ContactAccess.objects.get(kind=ContactAccess.Kind.DATA_SUBJECT_EXPORT)
        assert (trail.user, trail.contact_id) == (auditor, person.pk)

    def test_printable_page_shows_the_data_and_payloads(self, client, auditor, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        response = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/html/")
        page = response.content.decode()
        assert response.status_code == 200 and "prefers mornings" in page and person.email in page
        assert page.count('class="event"') == 2 and "window.print()" in page
        assert homonym.email not in page and "VIP" not in page
        assert DataSubjectExport.objects.get().format == "html"

    def test_only_a_contact_the_request_concerns_is_exported(self, client, auditor, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        response = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{homonym.pk}/json/")
        assert response.status_code == 404
        assert client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{person.pk}/xml/").status_code == 404
        assert not DataSubjectExport.objects.exists() and not ContactAccess.objects.filter(kind="data_subject_export")

    def test_exporting_is_its_own_permission(self, client):
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(
            *Group.objects.get(name=COMPLIANCE_GROUP).permissions.filter(
                codename__in=["view_datasubjectrequest", "view_contact"]
            )
        )
        client.force_login(viewer)
        contact = ContactFactory()
        request = new_request(contact)
        page = client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/change/")
        assert page.status_code == 200 and "dsr-export-json" not in page.content.decode()
        assert (
            client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/export/{contact.pk}/json/").status_code == 403
        )
        assert not DataSubjectExport.objects.exists()

    def test_command_writes_the_same_json_and_records_it(self, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        out = StringIO()
        call_command(
            "dsr_export", "--contact", str(person.pk), "--format", "json", "--request", str(request.pk), stdout=out
        )
        document = json.loads(out.getvalue())
        expected = json.loads(subject_export_json(subject_export(person, request=request)))
        document.pop("generated_at"), expected.pop("generated_at")
        assert document == expected and document["request"]["id"] == request.pk
        assert homonym.email not in out.getvalue()
        export = DataSubjectExport.objects.get()
        assert export.exported_by is None and export.contact == person
        assert ContactAccess.objects.get(kind="data_subject_export").user is None

    def test_command_refuses_unknown_ids_and_a_request_about_someone_else(self, person_and_neighbours):
        person, homonym, _ = person_and_neighbours
        request = new_request(person)
        with pytest.raises(CommandError, match="no contact"):
            call_command("dsr_export", "--contact", "999999", stdout=StringIO())
        with pytest.raises(CommandError, match="not concerned"):
            call_command("dsr_export", "--contact", str(homonym.pk), "--request", str(request.pk), stdout=StringIO())
        with pytest.raises(CommandError, match="no data-subject request"):
            call_command("dsr_export", "--contact", str(person.pk), "--request", "999999", stdout=StringIO())
        assert not ContactAccess.objects.exists()
