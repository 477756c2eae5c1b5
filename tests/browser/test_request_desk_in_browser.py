"""The data-subject request desk, clicked through by Compliance in a real browser: open a request, find the
person (typed without accents), export what we hold, erase, close."""

import json

import pytest
from django.contrib.auth.models import Group, Permission

from contacts.models import DataSubjectExport, DataSubjectRequest, ErasureRecord
from contacts.permissions import COMPLIANCE_GROUP, COMPLIANCE_PERMISSIONS
from tests.factories import ContactFactory, UserFactory, WebhookEventFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]

# What each language's pages say at the steps the test checks.
TEXT = {
    "en": {"erased": "was erased on", "exports": "Exports", "saved": "was changed successfully",
           "printable": "What we hold about you", "panel": "Data-subject requests"},
    "pt-BR": {"erased": "foi apagado em", "exports": "Exportações", "saved": "com sucesso",
              "printable": "O que guardamos sobre você", "panel": "Pedidos de titulares"},
}  # fmt: skip


@pytest.fixture
def compliance_page(chromium_browser, live_server, request):
    language = request.param
    user = UserFactory(username="dpo", is_staff=True)
    # A transactional test's database was flushed by the one before: the group its migration made may be gone.
    group, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
    group.permissions.set(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in COMPLIANCE_PERMISSIONS
    )
    user.groups.add(group)
    context = chromium_browser.new_context(
        viewport={"width": 1400, "height": 1000}, base_url=live_server.url, locale=language,
        accept_downloads=True,
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/admin/login/")
    page.fill("#id_username", "dpo")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#crm-dashboard")
    yield page, TEXT[language]
    context.close()


@pytest.mark.parametrize("compliance_page", list(TEXT), indirect=True)
def test_compliance_answers_an_erasure_request_from_the_desk(compliance_page, screenshot_of):
    page, text = compliance_page
    language = page.evaluate("navigator.language")
    person = ContactFactory(name="João Araújo", email="joao.araujo@exemplo.com.br", phone="+5547991112222",
                            external_id="cont_901", notes="ligar de manhã")  # fmt: skip
    ContactFactory(name="Maria Souza", external_id="cont_902")
    WebhookEventFactory(external_id="cont_901", body=json.dumps(
        {"event": "contact.created", "workspace_id": "ws_abc123",
         "data": {"contact_id": "cont_901", "name": "João Araújo", "email": "joao.araujo@exemplo.com.br"}}
    ).encode())  # fmt: skip

    page.goto("/admin/contacts/datasubjectrequest/add/")
    page.select_option("#id_kind", "erasure")
    page.fill("#id_reference", "TICKET-5521")
    page.click(".field-contacts .select2-selection")
    page.fill(".select2-search__field", "joao araujo")  # typed without its accents
    page.click(".select2-results__option:has-text('Araújo')")
    page.click("input[name=_continue]")
    page.wait_for_selector("#dsr-desk")
    request = DataSubjectRequest.objects.get()
    assert list(request.contacts.all()) == [person]

    with page.expect_popup() as popup:
        page.click(f"#dsr-export-html-{person.pk}")
    printable = popup.value
    printable.wait_for_selector("#export-fields")
    assert text["printable"] in printable.inner_text("h1")
    assert "joao.araujo@exemplo.com.br" in printable.inner_text("#export-fields")
    assert "ligar de manhã" in printable.inner_text("#export-notes")
    assert printable.locator("#export-events .event").count() == 1
    assert "Maria" not in printable.content()
    printable.close()
    with page.expect_download() as download:
        page.click(f"#dsr-export-json-{person.pk}")
    document = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert document["fields"]["email"] == "joao.araujo@exemplo.com.br" and document["request"]["id"] == request.pk
    page.reload()
    assert page.locator("#dsr-exports tbody tr").count() == 2
    assert text["exports"] in page.inner_text("#dsr-desk")
    screenshot_of(page, f"request-desk-exported-{language}")

    page.click("#dsr-erase")
    page.click("#dsr-erase-confirm")
    page.wait_for_selector("#dsr-erasures")
    assert text["erased"] in page.inner_text(f"#dsr-contact-{person.pk}")
    record = ErasureRecord.objects.get()
    assert list(request.erasures.all()) == [record] and record.requested_by == "dpo"

    page.select_option("#id_status", "answered")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert text["saved"] in page.inner_text(".messagelist")
    request.refresh_from_db()
    assert request.status == "answered" and request.closed_at is not None and request.handled_by.username == "dpo"
    assert DataSubjectExport.objects.filter(request=request).count() == 2
    screenshot_of(page, f"request-desk-closed-{language}")
    page.goto("/admin/")
    assert text["panel"] in page.inner_text("#dashboard-requests")
