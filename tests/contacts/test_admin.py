"""The contact pages staff use: the list (fast at any size) and one contact with its timeline."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from config.web.pagination import CappedCountPaginator
from contacts.admin import ContactAdmin
from contacts.models import Contact
from contacts.selectors import contact_timeline
from contacts.services import erase_on_request
from tests.factories import ContactFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def change_page(client, contact):
    return page(client, f"/admin/contacts/contact/{contact.pk}/change/")


def fieldset(html, css_class):
    """The content of every fieldset with this class (the provider's fields come in several groups)."""
    found = re.findall(rf'<fieldset class="[^"]*{css_class}[^"]*"[^>]*>(.*?)</fieldset>', html, re.S)
    assert found, css_class
    return "\n".join(found)


def test_timeline_lists_the_contacts_events_newest_first_with_who_changed_what(admin_client):
    contact = ContactFactory(external_id="cont_ana")
    now = timezone.now()
    created = WebhookEventFactory(
        external_id="cont_ana", event_type="contact.created", status="processed", received_at=now - timedelta(hours=2),
        changed_fields=["email", "name", "phone"],
    )  # fmt: skip
    updated = WebhookEventFactory(
        external_id="cont_ana", event_type="contact.updated", status="processed", received_at=now,
        changed_fields=["name"], drift=["name"], actor_id="usr_77", actor_type="attendant",
        status_reason="drift in: name",
    )  # fmt: skip
    WebhookEventFactory(external_id="cont_someone_else", event_type="contact.deleted")

    html = change_page(admin_client, contact)
    timeline = html.split('id="contact-timeline"')[1].split("</table>")[0]

    assert timeline.index(f"/admin/webhooks/webhookevent/{updated.pk}/change/") < timeline.index(
        f"/admin/webhooks/webhookevent/{created.pk}/change/"
    )
    assert "contact.deleted" not in timeline
    assert "attendant usr_77" in timeline
    assert "<code>email</code> <code>name</code> <code>phone</code>" in timeline
    assert "drift: <code>name</code>" in timeline
    assert "drift in: name" in timeline
    assert timeline.count('class="crm-timeline-entry"') == 2


def test_contact_without_events_says_so(admin_client):
    assert "No webhook events stored for this contact." in change_page(admin_client, ContactFactory())


def test_provider_fields_are_read_only_and_apart_from_local_fields(admin_client):
    contact = ContactFactory(name="Ana Costa", notes="prefers mornings")

    html = change_page(admin_client, contact)
    provider = fieldset(html, "crm-provider-fields")
    local = fieldset(html, "crm-local-fields")

    assert "Ana Costa" in provider
    assert 'name="name"' not in html  # shown, not editable
    assert 'name="notes"' in local and "prefers mornings" in local
    assert "Ana Costa" not in local


def test_tags_and_custom_fields_read_as_chips_and_a_table(admin_client):
    contact = ContactFactory(
        tags=["vip", "lead <b>"], custom_fields={"plan": "gold", "cities": ["Joinville", "Blumenau"]}
    )

    provider = fieldset(change_page(admin_client, contact), "crm-provider-fields")

    assert '<span class="crm-tag">vip</span><span class="crm-tag">lead &lt;b&gt;</span>' in provider
    assert "<tr><th>cities</th><td>Joinville, Blumenau</td></tr><tr><th>plan</th><td>gold</td></tr>" in provider


def test_erased_and_needs_refresh_contacts_carry_badges(admin_client):
    erased = ContactFactory(erased=True)
    partial = ContactFactory(needs_refresh=True)
    plain = ContactFactory()

    listing = page(admin_client, "/admin/contacts/contact/")

    assert "crm-badge-erased" in change_page(admin_client, erased)
    assert "needs refresh</span>" in change_page(admin_client, partial)
    assert "crm-badge" not in change_page(admin_client, plain).split('id="contact-timeline"')[0].split("<form")[1]
    assert listing.count("crm-badge-erased") == 1
    assert listing.count("crm-badge-refresh") == 1


def test_search_finds_a_contact_by_phone_however_typed(admin_client):
    ana = ContactFactory(name="Ana Costa", phone="+5547991234567")
    ContactFactory(name="Bruno Lima", phone="+5511988887777")

    listing = page(admin_client, "/admin/contacts/contact/?q=(47)+99123-4567")

    assert f"/admin/contacts/contact/{ana.pk}/change/" in listing
    assert "Bruno Lima" not in listing


@pytest.mark.parametrize("query", ["", "?q=exemplo", "?provider__exact=timely&erased=no&needs_refresh__exact=0"])
def test_changelist_queries_stay_constant_as_contacts_grow(admin_client, query):
    ContactFactory.create_batch(5)
    with CaptureQueriesContext(connection) as few:
        page(admin_client, f"/admin/contacts/contact/{query}")
    ContactFactory.create_batch(60)
    with CaptureQueriesContext(connection) as many:
        listing = page(admin_client, f"/admin/contacts/contact/{query}")

    assert len(many) == len(few)
    assert len(set(re.findall(r'href="/admin/contacts/contact/(\d+)/change/', listing))) == 65


def test_change_page_queries_stay_constant_as_events_grow(admin_client):
    contact = ContactFactory(external_id="cont_busy")
    WebhookEventFactory.create_batch(2, external_id="cont_busy", changed_fields=["name"])
    with CaptureQueriesContext(connection) as few:
        change_page(admin_client, contact)
    WebhookEventFactory.create_batch(30, external_id="cont_busy", changed_fields=["name"])
    with CaptureQueriesContext(connection) as many:
        change_page(admin_client, contact)

    assert len(many) == len(few)


def test_timeline_reaches_contacts_through_the_signal_only_for_the_same_account():
    contact = ContactFactory(provider="timely", account_id="ws_1", external_id="cont_1")
    mine = WebhookEventFactory(provider="timely", account_id="ws_1", external_id="cont_1")
    WebhookEventFactory(provider="timely", account_id="ws_2", external_id="cont_1")
    WebhookEventFactory(provider="fpt", account_id="ws_1", external_id="cont_1")

    assert [entry.event_pk for entry in contact_timeline(contact)] == [mine.pk]


def test_provider_fields_come_in_groups_without_the_empty_ones(admin_client):
    known = ContactFactory(name="Ana Costa", phone="+5547991234567", email="", source="whatsapp", can_sms=True)
    ids_only = ContactFactory(provider="fpt", account_id="48213", external_id="9917342", name="", phone="", email="",
                              source="", needs_refresh=True)  # fmt: skip

    known_page, ids_page = change_page(admin_client, known), change_page(admin_client, ids_only)
    group_titles = r'<fieldset class="[^"]*crm-provider-fields[^"]*"[^>]*>.*?<h2[^>]*>(.*?)</h2>'
    groups = re.findall(group_titles, known_page, re.S)

    assert [re.sub(r"<[^>]+>", "", group).strip() for group in groups] == ["Who", "At the provider",
                                                                            "May we contact them"]  # fmt: skip
    provider = fieldset(known_page, "crm-provider-fields")
    assert "field-name" in provider and "field-source" in provider and "field-can_sms" in provider
    assert "field-email" not in provider and "field-can_call" not in provider and "field-last_call_at" not in provider
    assert "field-erased_at" not in known_page and "field-refresh_due_at" not in known_page  # unset bookkeeping
    assert "crm-provider-fields" not in ids_page  # nothing from the provider yet: no group at all
    assert 'name="notes"' in ids_page


def test_phones_read_in_national_format_with_the_e164_on_hover(admin_client):
    contact = ContactFactory(phone="+5547991234567")
    ContactFactory(phone="+14155552671")

    listing = page(admin_client, "/admin/contacts/contact/")

    assert '<span class="crm-phone" title="+5547991234567">(47) 99123-4567</span>' in listing
    assert '<span class="crm-phone" title="+14155552671">+1 415-555-2671</span>' in listing
    assert 'title="+5547991234567">(47) 99123-4567</span>' in change_page(admin_client, contact)


def test_a_contact_known_by_its_ids_only_reads_as_such(admin_client):
    ContactFactory(provider="fpt", external_id="9917342", name="")

    listing = page(admin_client, "/admin/contacts/contact/")

    assert '<span class="crm-unnamed">No name yet · fpt #9917342</span>' in listing


def test_an_id_only_contact_has_the_same_readable_name_on_every_page(admin_client):
    contact = ContactFactory(provider="fpt", external_id="9917342", name="")
    name = "No name yet · fpt #9917342"

    contact_page = change_page(admin_client, contact)
    title = re.search(r"<title>(.*?)</title>", contact_page, re.S).group(1)
    breadcrumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', contact_page, re.S).group(1)
    response = admin_client.post(f"/admin/contacts/contact/{contact.pk}/change/", {"notes": "called back"})
    history = LogEntry.objects.get(object_id=str(contact.pk))
    confirmation = admin_client.post("/admin/contacts/contact/", {
        "action": "erase_data_subject", "_selected_action": [contact.pk], "index": 0,
    }).content.decode()  # fmt: skip

    assert name in title and name in breadcrumbs
    assert response.status_code == 302 and history.object_repr == name
    assert f"<li>{name} — fpt /" in confirmation
    assert "fpt contact" not in contact_page + confirmation


def test_a_brazilian_browser_reads_the_id_only_and_the_erased_names_in_portuguese(admin_client):
    unnamed = ContactFactory(provider="fpt", external_id="9917342", name="")
    tombstone = ContactFactory(name="Ana Souza")
    erase_on_request(contact=tombstone, requested_by="dpo", requested_by_type="admin", reference="DSR-1")
    portuguese = {"headers": {"accept-language": "pt-BR"}}

    unnamed_page = admin_client.get(f"/admin/contacts/contact/{unnamed.pk}/change/", **portuguese).content.decode()
    tombstone_page = admin_client.get(f"/admin/contacts/contact/{tombstone.pk}/change/", **portuguese)

    assert "Ainda sem nome · fpt nº 9917342" in unnamed_page
    assert f"Contato apagado nº {tombstone.pk}" in tombstone_page.content.decode()
    with translation.override("en"):
        assert str(Contact.objects.get(pk=tombstone.pk)) == f"Erased contact #{tombstone.pk}"


def test_a_broad_search_counts_its_matches_only_up_to_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    ContactFactory.create_batch(5, name="Ana Souza")
    ContactFactory(name="Bruno Lima")
    ContactFactory.create_batch(2, name="Carla Dias")

    sent = []
    with connection.execute_wrapper(lambda execute, sql, *args: sent.append(sql) or execute(sql, *args)):
        broad = page(admin_client, "/admin/contacts/contact/?q=souza")
    narrow = page(admin_client, "/admin/contacts/contact/?q=dias")

    counts = [sql for sql in sent if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT 4" in sql for sql in counts)  # never a COUNT(*) of every match
    assert '<span class="crm-capped-count">more than 3 contacts</span>' in broad
    assert "Select every match (more than 3 contacts)" in broad
    assert "2 contacts" in narrow and "crm-capped-count" not in narrow


def test_a_capped_list_still_pages_and_says_so_in_portuguese(admin_client, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(ContactAdmin, "list_per_page", 2)
    ContactFactory.create_batch(7, name="Ana Souza")

    second = admin_client.get("/admin/contacts/contact/?q=souza&p=2", headers={"accept-language": "pt-BR"})
    past_the_cap = admin_client.get("/admin/contacts/contact/?q=souza&p=3")

    assert second.status_code == 200 and len(second.context["cl"].result_list) == 2
    assert "mais de 3 contatos" in second.content.decode()
    assert past_the_cap.status_code == 302 and past_the_cap["Location"].endswith("?e=1")


@pytest.mark.parametrize(("language", "label"), [("en", "more than 10,000"), ("pt-br", "mais de 10.000")])
def test_the_cap_reads_in_the_pages_language_and_number_format(language, label):
    with translation.override(language):
        assert CappedCountPaginator(Contact.objects.none(), per_page=100).more_than == label


def test_timeline_shows_old_and_new_values_until_the_contact_is_erased(admin_client, post_webhook, timely_fixture):
    for name in ("contact.created", "contact.updated"):
        assert post_webhook("timely", timely_fixture(name)).status_code == 200
    contact = Contact.objects.get(external_id="cont_456")

    timeline = change_page(admin_client, contact).split('id="contact-timeline"')[1].split("</table>")[0]

    assert (
        '<code>name</code> <span class="crm-old">Ana Costa</span> → <span class="crm-new">Ana Costa Ribeiro</span>'
        in timeline
    )
    tags = '<code>tags</code> <span class="crm-old">—</span> → <span class="crm-new">cliente-vip, pagamento-pendente'
    assert tags in timeline
    assert '<code>email</code> <span class="crm-new">ana.costa@exemplo.com.br</span>' in timeline  # created: no before

    erase_on_request(contact=contact, requested_by="dpo", requested_by_type="admin", reference="DSR-9")
    contact.refresh_from_db()
    erased = change_page(admin_client, contact).split('id="contact-timeline"')[1].split("</table>")[0]

    assert erased.count('class="crm-timeline-entry"') == 2
    assert "<code>name</code>" in erased  # the names of what changed, nothing more
    assert "Ana Costa" not in erased and "crm-new" not in erased and "exemplo.com.br" not in erased
