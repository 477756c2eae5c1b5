"""The access trail: a row naming each contact an answer showed (one INSERT per answer), ids only, kept past
erasure."""

from datetime import timedelta

import pytest
from axes.models import AccessLog
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from contacts.access import filters_of
from contacts.models import ContactAccess, DataSubjectRequest
from contacts.permissions import COMPLIANCE_GROUP
from contacts.services import erase_on_request
from tests.database_dump import found_in, full_dump
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db

Kind = ContactAccess.Kind
ANA = {"name": "Ana Conceição Ribeiro", "phone": "+5547991234567", "email": "ana.conceicao@exemplo.com.br"}


@pytest.fixture
def ana():
    return ContactFactory(**ANA, external_id="cont_ana")


@pytest.fixture
def api_user():
    user = UserFactory(username="crm-reader")
    user.user_permissions.add(Permission.objects.get(codename="view_contact"))
    return user, {"Authorization": f"Token {Token.objects.create(user=user).key}"}


def trail():
    return list(ContactAccess.objects.order_by("id").values("user__username", "kind", "contact_id", "rows", "filters"))


def rows_of(kind):
    return list(ContactAccess.objects.filter(kind=kind).order_by("contact_id").values_list("contact_id", "rows"))


def test_opening_a_contact_s_page_records_who_which_contact_and_through_what(admin_client, admin_user, ana):
    assert admin_client.get(f"/admin/contacts/contact/{ana.pk}/change/").status_code == 200

    (row,) = ContactAccess.objects.all()
    assert (row.user, row.kind, row.contact_id, row.rows) == (admin_user, Kind.CONTACT_PAGE, ana.pk, 1)
    assert row.via == "admin:contacts_contact_change"
    assert timezone.now() - row.at < timedelta(minutes=1)


def test_opening_a_contact_s_history_records_it_too(admin_client, admin_user, ana):
    assert admin_client.get(f"/admin/contacts/contact/{ana.pk}/history/").status_code == 200

    assert trail() == [{"user__username": "admin", "kind": Kind.CONTACT_HISTORY, "contact_id": ana.pk, "rows": 1,
                        "filters": {}}]  # fmt: skip


def test_a_missing_contact_or_a_redirect_records_nothing(admin_client, ana):
    assert admin_client.get("/admin/contacts/contact/999999/change/").status_code == 302
    by_key = {"provider": ana.provider, "account_id": ana.account_id, "external_id": ana.external_id}
    assert admin_client.get("/admin/contacts/contact/by-key/", by_key).status_code == 302
    assert not ContactAccess.objects.exists()


def test_recording_a_page_view_costs_one_insert_and_nothing_else(admin_client, ana):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(f"/admin/contacts/contact/{ana.pk}/change/")

    touching = [q["sql"] for q in queries if "contacts_contactaccess" in q["sql"]]
    assert len(touching) == 1
    assert touching[0].lstrip().upper().startswith("INSERT")


def test_a_list_page_names_every_contact_shown_in_one_insert_but_never_the_search_term(admin_client, ana):
    others = ContactFactory.create_batch(3, name="Ana Souza")
    ContactFactory(name="Bruno Lima")

    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/contacts/contact/", {"q": "Ana", "provider__exact": "timely", "o": "2"})

    assert [q["sql"] for q in queries if "contacts_contactaccess" in q["sql"]][0].upper().startswith("INSERT")
    assert len([q for q in queries if "contacts_contactaccess" in q["sql"]]) == 1
    shown = sorted([ana.pk, *(c.pk for c in others)])
    filters = {"o": "2", "provider__exact": "timely", "q": "[not kept]"}
    assert sorted(trail(), key=lambda row: row["contact_id"]) == [
        {"user__username": "admin", "kind": Kind.CONTACT_LIST, "contact_id": pk, "rows": 4, "filters": filters}
        for pk in shown
    ]


def test_the_lists_tag_owner_and_date_filters_are_kept_and_read_in_the_readers_language(admin_client, ana):
    ContactFactory(name="Ana Souza", tags=["cliente-vip"], assigned_to="usr_321")
    query = {"tag": "cliente-vip", "assigned_to": "usr_321", "created_at_from": "2026-12-01",
             "updated_at_to": "2099-12-31", "q": "Ana"}  # fmt: skip

    admin_client.get("/admin/contacts/contact/", query)

    assert trail()[0]["filters"] == {**query, "q": "[not kept]"}
    page = admin_client.get("/admin/contacts/contactaccess/", headers={"accept-language": "pt-BR"}).content.decode()
    assert "etiqueta: cliente-vip" in page and "responsável: usr_321" in page
    assert "primeiro registro a partir de: 01/12/2026" in page
    assert "última alteração até: 31/12/2099" in page and "[não guardado]" in page
    english = admin_client.get("/admin/contacts/contactaccess/", headers={"accept-language": "en"}).content.decode()
    assert "first stored from: 2026-12-01" in english and "owner: usr_321" in english


def test_a_date_range_value_that_is_not_a_day_is_not_kept():
    # The list refuses it, but the API's answers and other pages keep their parameters too: it could be a name.
    assert filters_of({"created_at_to": "Ana Conceição", "updated_at_from": " 2026-12-01 "}) == {
        "created_at_to": "[not kept]", "updated_at_from": "2026-12-01"}  # fmt: skip


def test_a_list_answered_to_a_post_is_recorded_as_a_get_is(admin_client, ana):
    # A POST with only the CSRF token (no action) renders the list, search included.
    response = admin_client.post(f"/admin/contacts/contact/?q={ANA['email']}", {})

    assert response.status_code == 200 and ANA["name"] in response.content.decode()
    assert rows_of(Kind.CONTACT_LIST) == [(ana.pk, 1)]


def test_an_invalid_change_form_shows_the_contact_again_and_records_it(admin_client, ana):
    # A NUL is refused by the form (Django's null-character validator): the page comes back with the error.
    response = admin_client.post(f"/admin/contacts/contact/{ana.pk}/change/", {"notes": "a\x00b"})

    assert response.status_code == 200 and ANA["name"] in response.content.decode()
    assert rows_of(Kind.CONTACT_PAGE) == [(ana.pk, 1)]


def test_the_erase_confirmation_page_names_each_contact_it_lists(admin_client, ana):
    bruno = ContactFactory(name="Bruno Lima")
    selected = {"action": "erase_data_subject", "_selected_action": [ana.pk, bruno.pk]}

    response = admin_client.post("/admin/contacts/contact/", selected)

    assert response.status_code == 200 and "Bruno Lima" in response.content.decode()
    assert rows_of(Kind.CONTACT_ACTION) == sorted([(ana.pk, 2), (bruno.pk, 2)])
    assert set(ContactAccess.objects.values_list("via", flat=True)) == {
        "admin:contacts_contact_changelist/erase_data_subject"
    }


def test_an_unknown_action_name_is_not_stored(admin_client, ana):
    admin_client.post("/admin/contacts/contact/", {"action": ANA["name"], "_selected_action": [ana.pk]})

    assert ANA["name"] not in str(list(ContactAccess.objects.values_list("via", "filters")))


def test_the_request_desk_names_the_contacts_it_links(admin_client, ana):
    request = DataSubjectRequest.objects.create(kind=DataSubjectRequest.Kind.ERASURE, received_at=timezone.now())
    request.contacts.add(ana)

    for page in ("change", "erase"):
        suffix = "change/" if page == "change" else "erase/"
        assert admin_client.get(f"/admin/contacts/datasubjectrequest/{request.pk}/{suffix}").status_code == 200
    admin_client.get("/admin/contacts/datasubjectrequest/")  # the register names contacts by id only

    assert rows_of(Kind.REQUEST_DESK) == [(ana.pk, 1), (ana.pk, 1)]
    assert ContactAccess.objects.count() == 2


def test_an_api_read_of_one_contact_records_the_reader_and_the_contact(client, api_user, ana):
    user, headers = api_user

    assert client.get(f"/api/contacts/{ana.pk}/", headers=headers).status_code == 200
    assert client.get("/api/contacts/999999/", headers=headers).status_code == 404

    assert trail() == [{"user__username": "crm-reader", "kind": Kind.API_CONTACT, "contact_id": ana.pk, "rows": 1,
                        "filters": {}}]  # fmt: skip


def test_an_api_page_of_contacts_names_each_contact_it_served(client, api_user, ana):
    _, headers = api_user
    others = ContactFactory.create_batch(2)

    client.get("/api/contacts/", {"search": ANA["phone"], "provider": "timely"}, headers=headers)
    page = client.get("/api/contacts/", {"page_size": "2"}, headers=headers).json()["results"]

    served = [contact["id"] for contact in page]
    assert len(served) == 2 and set(served) <= {ana.pk, *(c.pk for c in others)}
    assert sorted((row["kind"], row["contact_id"], row["rows"], row["filters"]) for row in trail()) == sorted([
        (Kind.API_CONTACT_LIST, ana.pk, 1, {"provider": "timely", "search": "[not kept]"}),
        *[(Kind.API_CONTACT_LIST, pk, 2, {"page_size": "2"}) for pk in served],
    ])  # fmt: skip


def test_the_contact_page_links_to_every_access_to_it(admin_client, ana):
    page = admin_client.get(f"/admin/contacts/contact/{ana.pk}/change/").content.decode()

    link = f'href="/admin/contacts/contactaccess/?contact={ana.pk}"'
    assert link in page
    listed = admin_client.get(f"/admin/contacts/contactaccess/?contact={ana.pk}")
    assert [row.contact_id for row in listed.context["cl"].result_list] == [ana.pk]  # the page view just made


def test_staff_who_may_not_read_the_trail_get_no_link_to_it(client, ana):
    sales = UserFactory(is_staff=True)
    sales.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(sales)

    page = client.get(f"/admin/contacts/contact/{ana.pk}/change/").content.decode()

    assert ANA["name"] in page and "/admin/contacts/contactaccess/" not in page
    assert rows_of(Kind.CONTACT_PAGE) == [(ana.pk, 1)]


def test_erasure_log_exports_are_one_row_each_with_their_count(admin_client):
    records = [
        erase_on_request(
            contact=ContactFactory(), requested_by="usr_1", requested_by_type="attendant", reference="DSR-1"
        )
        for _ in range(3)
    ]

    admin_client.get("/admin/contacts/erasurerecord/export/")
    admin_client.post("/admin/contacts/erasurerecord/",
                      {"action": "export_selected_csv", "_selected_action": [records[0].pk]})  # fmt: skip

    assert [(row["kind"], row["rows"]) for row in trail()] == [(Kind.ERASURES_CSV, 3), (Kind.ERASURES_CSV, 1)]


@pytest.mark.parametrize(("action", "kind"), [("export_csv", Kind.EVENTS_CSV), ("export_json", Kind.EVENTS_JSON)])
def test_an_event_export_is_one_row_with_its_count(admin_client, action, kind):
    events = WebhookEventFactory.create_batch(3)

    response = admin_client.post("/admin/webhooks/webhookevent/",
                                 {"action": action, "_selected_action": [e.pk for e in events[:2]]})  # fmt: skip

    assert response.status_code == 200
    assert [(row["kind"], row["rows"], row["contact_id"]) for row in trail()] == [(kind, 2, None)]


def test_the_trail_holds_no_personal_value_and_keeps_its_rows_after_the_erasure(admin_client, client, api_user, ana):
    _, headers = api_user
    admin_client.get(f"/admin/contacts/contact/{ana.pk}/change/")
    for term in ANA.values():
        admin_client.get("/admin/contacts/contact/", {"q": term})
        client.get("/api/contacts/", {"search": term}, headers=headers)
    client.get(f"/api/contacts/{ana.pk}/", headers=headers)
    event = WebhookEventFactory(external_id="cont_ana")
    admin_client.post("/admin/webhooks/webhookevent/", {"action": "export_json", "_selected_action": [event.pk]})
    before = trail()
    # Her page, each search (admin and API), her API read, the export naming her, and the export's count.
    assert len(before) == 1 + 2 * len(ANA) + 1 + 1 + 1
    assert ContactAccess.objects.filter(contact_id=ana.pk).count() == len(before) - 1

    erase_on_request(contact=ana, requested_by="admin", requested_by_type="admin", reference="DSR-7")

    assert trail() == before  # who saw her before the erasure is still answered
    assert found_in(full_dump(), ANA.values()) == []


@pytest.fixture
def auditor(client):
    user = UserFactory(is_staff=True, username="auditor")
    user.groups.add(Group.objects.get(name=COMPLIANCE_GROUP))
    client.force_login(user)
    return user


def test_compliance_reads_the_trail_by_contact_and_by_staff_user_and_cannot_change_it(client, auditor, ana):
    bruno = ContactFactory()
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    mine = ContactAccess.objects.create(user=alice, kind=Kind.CONTACT_PAGE, contact=ana)
    ContactAccess.objects.create(user=bob, kind=Kind.CONTACT_PAGE, contact=bruno)
    ContactAccess.objects.create(user=bob, kind=Kind.API_CONTACT, contact=ana)
    changelist = "/admin/contacts/contactaccess/"

    def listed(**params):
        response = client.get(changelist, params)
        assert response.status_code == 200
        return sorted(row.pk for row in response.context["cl"].result_list)

    by_ana = sorted(ContactAccess.objects.filter(contact=ana).values_list("pk", flat=True))
    assert listed(contact=ana.pk) == by_ana
    assert listed(q=str(ana.pk)) == by_ana
    assert listed(q="Ana") == []  # ids only: the trail knows no names
    assert listed(user__id__exact=alice.pk) == [mine.pk]
    assert listed(user__id__exact=bob.pk, contact=ana.pk) == sorted(
        ContactAccess.objects.filter(user=bob, contact=ana).values_list("pk", flat=True)
    )
    assert client.get(f"{changelist}add/").status_code == 403
    assert client.post(f"{changelist}{mine.pk}/change/", {"kind": "contact_list"}).status_code == 403
    assert client.post(f"{changelist}{mine.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ContactAccess.objects.filter(pk=mine.pk, kind=Kind.CONTACT_PAGE).exists()
    # Reading the trail is not itself an access to contacts' data.
    assert ContactAccess.objects.count() == 3


def test_a_filter_value_the_list_ignored_is_recorded_without_its_nul(admin_client, ana):
    # Django ignores an ordering it cannot read and lists everything; the trail must still store. (An unknown
    # value of a filter, erased=%00yes, is refused with the invalid-filter page instead: nothing is listed.)
    assert admin_client.get("/admin/contacts/contact/?o=1%00").status_code == 200

    assert trail() == [{"user__username": "admin", "kind": Kind.CONTACT_LIST, "contact_id": ana.pk, "rows": 1,
                        "filters": {"o": "1"}}]  # fmt: skip


def test_pruning_drops_rows_older_than_the_retention_and_keeps_the_rest(settings, capsys, ana):
    settings.ACCESS_LOG_RETENTION_DAYS = 180
    now = timezone.now()
    old = ContactAccess.objects.create(kind=Kind.CONTACT_PAGE, contact=ana, at=now - timedelta(days=181))
    recent = ContactAccess.objects.create(kind=Kind.CONTACT_PAGE, contact=ana, at=now - timedelta(days=179))
    old_login = AccessLog.objects.create(username="x", ip_address="127.0.0.1", user_agent="", path_info="/admin/login/")
    AccessLog.objects.filter(pk=old_login.pk).update(attempt_time=now - timedelta(days=200))
    AccessLog.objects.create(username="y", ip_address="127.0.0.1", user_agent="", path_info="/admin/login/")

    call_command("prune_access_trail")

    assert "Deleted 1 access trail row(s) and 1 login record(s)" in capsys.readouterr().out
    assert list(ContactAccess.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ContactAccess.objects.filter(pk=old.pk).exists()
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["y"]

    call_command("prune_access_trail", "--days", "0")
    assert not ContactAccess.objects.exists()


def test_pruning_refuses_a_negative_retention(db):
    with pytest.raises(CommandError, match="--days"):
        call_command("prune_access_trail", "--days", "-1")
