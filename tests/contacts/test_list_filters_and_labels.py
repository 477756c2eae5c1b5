"""The contact list as Brazilian sales staff filter it: by tag, owner, status, source and by days; the
providers' closed lists (FPT statuses, Timely channels) read in the reader's language, while the stored
values (and the API) stay as the providers sent them."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from contacts.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:contacts_contact_changelist")
PT_BR = {"accept-language": "pt-BR"}


def listed(client, **params) -> set[str]:
    response = client.get(LIST, params, headers=PT_BR)
    assert response.status_code == 200, response
    return {contact.external_id for contact in response.context["cl"].result_list}


def test_the_list_filters_by_tag_exactly_whatever_its_case(admin_client):
    ContactFactory(external_id="vip", tags=["VIP", "joinville"])
    ContactFactory(external_id="gold", tags=["vip-gold"])
    ContactFactory(external_id="field", tags=[], custom_fields={"nivel": "vip"})
    ContactFactory(external_id="accent", tags=["família"])

    assert listed(admin_client, tag="vip") == {"vip"}
    assert listed(admin_client, tag="família") == {"accent"}
    assert listed(admin_client, tag="50%_off") == set()


def test_the_list_filters_by_owner_status_and_days_together(admin_client):
    def contact(external_id, owner, status, created):
        row = ContactFactory(external_id=external_id, assigned_to=owner, status=status)
        Contact.objects.filter(pk=row.pk).update(created_at=created)

    contact("a", "usr_1", "Members", datetime(2026, 11, 30, 12, tzinfo=UTC))
    contact("b", "usr_1", "Leads", datetime(2026, 11, 30, 12, tzinfo=UTC))
    contact("c", "usr_2", "Members", datetime(2026, 11, 30, 12, tzinfo=UTC))
    # 01/12 00:30 in São Paulo is still 30/11 on no clock here: local days decide.
    contact("d", "usr_1", "Members", datetime(2026, 12, 1, 3, 30, tzinfo=UTC))

    assert listed(admin_client, assigned_to="usr_1") == {"a", "b", "d"}
    assert listed(admin_client, assigned_to="usr_1", status="Members") == {"a", "d"}
    assert listed(admin_client, assigned_to="usr_1", created_at_from="2026-11-30", created_at_to="2026-11-30") == {
        "a", "b",
    }  # fmt: skip
    assert listed(admin_client, created_at_from="2026-12-01") == {"d"}
    assert admin_client.get(LIST, {"created_at_from": "30/11/2026"}).url.endswith("?e=1")


def test_the_filter_boxes_keep_the_other_filters_and_the_search(admin_client):
    ContactFactory(tags=["vip"], source="whatsapp")

    page = admin_client.get(LIST, {"source__exact": "whatsapp", "q": "ana"}, headers=PT_BR).content.decode()

    form = page.split('id="crm-filter-tag"')[0].rsplit('<form method="get" class="crm-input-filter">', 1)[1]
    assert '<input type="hidden" name="source__exact" value="whatsapp">' in form
    assert '<input type="hidden" name="q" value="ana">' in form
    assert 'type="date" name="updated_at_from"' in page


def test_statuses_and_channels_read_in_portuguese_but_are_stored_and_answered_as_sent(admin_client):
    contact = ContactFactory(provider="fpt", status="Members", source="widget", name="Ana")
    ContactFactory(provider="fpt", status="Leads", source="")  # a filter of one value is not shown

    listing = admin_client.get(LIST, headers=PT_BR).content.decode()
    page = admin_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]), headers=PT_BR)
    english = admin_client.get(LIST, headers={"accept-language": "en"}).content.decode()

    assert 'class="field-status_display">Membros<' in listing
    assert 'class="field-source_display">widget do site<' in listing
    assert 'href="?status=Members">Membros</a>' in listing  # the filter: stored value, read label
    assert "Membros" in page.content.decode() and ">Members<" not in page.content.decode()
    assert 'class="field-status_display">Members<' in english
    assert admin_client.get(f"/api/contacts/{contact.pk}/").json()["status"] == "Members"


def test_search_finds_statuses_and_channels_by_their_label_in_the_readers_language(admin_client):
    ContactFactory(external_id="member", provider="fpt", status="Members", name="")
    ContactFactory(external_id="past", provider="fpt", status="Past Members", name="")
    ContactFactory(external_id="ana_site", source="widget", name="Ana Lima")
    ContactFactory(external_id="ana_zap", source="whatsapp", name="Ana Souza")

    assert listed(admin_client, q="membros") == {"member", "past"}  # "Ex-membros" holds the word too
    assert listed(admin_client, q="ex-membros") == {"past"}
    assert listed(admin_client, q="ana site") == {"ana_site"}  # one word in the name, one in the channel
    english = admin_client.get(LIST, {"q": "past members"}, headers={"accept-language": "en"})
    assert {contact.external_id for contact in english.context["cl"].result_list} == {"past"}
    assert listed(admin_client, q="past members") == set()  # a Portuguese reader's labels are Portuguese
