"""The data-subject request desk, clicked through by Compliance in a real browser: open a request, find the
person (typed without accents), export what we hold, erase, close; each path's steps counted (a step is one
page load or one submit the user makes: redirects and the contact search's look-ups are not steps)."""

import json

import pytest

from contacts.models import DataSubjectExport, DataSubjectRequest, ErasureRecord
from tests.browser.conftest import compliance_page_in
from tests.factories import ContactFactory, WebhookEventFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasure_log_cleanup")]

# What each language's pages say at the steps the test checks.
TEXT = {
    "en": {"erased": "was erased on", "exports": "Exports", "answered": "marked answered",
           "printable": "What we hold about you", "panel": "Data-subject requests", "tags": "Tags"},
    "pt-BR": {"erased": "foi apagado em", "exports": "Exportações", "answered": "marcado como respondido",
              "printable": "O que guardamos sobre você", "panel": "Pedidos de titulares", "tags": "Etiquetas"},
}  # fmt: skip


@pytest.fixture
def compliance_page(chromium_browser, live_server, request):
    language = request.param
    page, context = compliance_page_in(
        chromium_browser, live_server, locale=language, viewport={"width": 1400, "height": 1000}, accept_downloads=True
    )
    yield page, TEXT[language]
    context.close()


class Steps:
    """Counts the user's steps in a browser context: each top-level document the user asked for (a link, a
    typed address, a submit), in any tab; the page a redirect leads to is the same step."""

    def __init__(self, context):
        self.count = 0
        context.on("request", self.seen)

    def seen(self, request):
        # The admin's pages have no frames: every document navigation is a page's. (A new tab's first request
        # comes before its frame exists, so the frame cannot be asked.)
        if request.is_navigation_request() and request.resource_type == "document" and not request.redirected_from:
            self.count += 1


def new_request(page, kind: str, search: str, pick: str) -> None:
    """Step 1, the "new request" page; step 2, its one submit (the contact search is typing, not a step)."""
    page.goto("/admin/contacts/datasubjectrequest/add/")
    page.select_option("#id_kind", kind)
    page.fill("#id_reference", "TICKET-5521")
    page.click(".field-contacts .select2-selection")
    page.fill(".select2-search__field", search)
    page.click(f".select2-results__option:has-text('{pick}')")
    page.click("input[name=_save]")
    page.wait_for_selector("#dsr-actions")


@pytest.mark.parametrize("compliance_page", list(TEXT), indirect=True)
def test_an_erasure_request_is_answered_in_four_steps(compliance_page, screenshot_of):
    page, text = compliance_page
    language = page.evaluate("navigator.language")
    person = ContactFactory(name="João Araújo", email="joao.araujo@exemplo.com.br", phone="+5547991112222",
                            external_id="cont_901", notes="ligar de manhã")  # fmt: skip
    ContactFactory(name="Maria Souza", external_id="cont_902")
    WebhookEventFactory(external_id="cont_901", body=json.dumps(
        {"event": "contact.created", "workspace_id": "ws_abc123",
         "data": {"contact_id": "cont_901", "name": "João Araújo", "email": "joao.araujo@exemplo.com.br"}}
    ).encode())  # fmt: skip

    steps = Steps(page.context)
    new_request(page, "erasure", "joao araujo", "Araújo")  # typed without its accents
    request = DataSubjectRequest.objects.get()
    assert list(request.contacts.all()) == [person]

    page.click("#dsr-erase")
    page.click("#dsr-erase-confirm")
    page.wait_for_selector("#dsr-erasures")
    assert steps.count == 4  # new request, save, erase, confirm: answered
    assert text["erased"] in page.inner_text(f"#dsr-contact-{person.pk}")
    assert text["answered"] in page.inner_text(".messagelist")
    record = ErasureRecord.objects.get()
    assert list(request.erasures.all()) == [record] and record.requested_by == "dpo"
    request.refresh_from_db()
    assert request.status == "answered" and request.closed_at is not None and request.handled_by.username == "dpo"
    assert page.locator("#dsr-answer").count() == 0
    screenshot_of(page, f"request-desk-closed-{language}")
    page.goto("/admin/")
    assert text["panel"] in page.inner_text("#dashboard-requests")


def person_with_history():
    person = ContactFactory(name="João Araújo", email="joao.araujo@exemplo.com.br", phone="+5547991112222",
                            external_id="cont_901", notes="ligar de manhã", tags=["vip", "academia"],
                            custom_fields={"plano": "anual"})  # fmt: skip
    ContactFactory(name="Maria Souza", external_id="cont_902")
    WebhookEventFactory(external_id="cont_901", body=json.dumps(
        {"event": "contact.created", "workspace_id": "ws_abc123",
         "data": {"contact_id": "cont_901", "name": "João Araújo", "email": "joao.araujo@exemplo.com.br",
                  "custom_fields": {"plano": "anual"}}}
    ).encode())  # fmt: skip
    return person


def read_printable(page, person, text, screenshot_of, name):
    """One step: the printable page, in a tab of its own. Checked as the person will read it."""
    with page.expect_popup() as popup:
        page.click(f"#dsr-export-html-{person.pk}")
    printable = popup.value
    printable.wait_for_selector("#export-fields")
    assert text["printable"] in printable.inner_text("h1")
    fields = printable.inner_text("#export-fields")
    assert "joao.araujo@exemplo.com.br" in fields and text["tags"] in fields
    assert printable.locator("#export-fields ul li").all_inner_texts() == ["vip", "academia"]
    assert printable.locator("#export-events .payload table.kv").count() >= 1
    content = printable.content()
    assert "['" not in content and "{'" not in content and '{"' not in content
    assert "America/Sao_Paulo" in printable.inner_text("#export-time-zone")
    assert "ligar de manhã" in printable.inner_text("#export-notes")
    assert printable.locator("#export-events .event").count() == 1
    assert "Maria" not in content
    screenshot_of(printable, name)
    printable.close()


@pytest.mark.parametrize("compliance_page", ["pt-BR"], indirect=True)
def test_an_access_request_is_answered_in_four_steps(compliance_page, screenshot_of):
    page, text = compliance_page
    person = person_with_history()
    steps = Steps(page.context)
    new_request(page, "access", "joao araujo", "Araújo")
    assert page.locator("#dsr-erase").count() == 0  # access only: nothing to erase here
    read_printable(page, person, text, screenshot_of, "request-desk-printable-pt-BR")
    page.click("#dsr-answer")
    page.wait_for_selector(".messagelist")
    assert steps.count == 4  # new request, save, printable page, mark answered
    assert text["answered"] in page.inner_text(".messagelist")
    request = DataSubjectRequest.objects.get()
    assert request.status == "answered" and request.handled_by.username == "dpo"
    assert DataSubjectExport.objects.filter(request=request, format="html").count() == 1
    assert text["exports"] in page.inner_text("#dsr-desk")


@pytest.mark.parametrize("compliance_page", ["pt-BR"], indirect=True)
def test_access_then_erasure_in_one_request_in_five_steps(compliance_page, screenshot_of):
    page, text = compliance_page
    person = person_with_history()
    steps = Steps(page.context)
    new_request(page, "access_erasure", "joao araujo", "Araújo")
    assert page.locator("#dsr-export-first").count() == 1  # the copy comes first, and the desk says so
    top = page.locator("#dsr-actions").bounding_box()["y"]
    assert top < page.locator("#id_kind").bounding_box()["y"]  # the actions stand above the form
    read_printable(page, person, text, screenshot_of, "request-desk-printable-before-erasure-pt-BR")
    page.click("#dsr-erase")
    page.wait_for_selector("#dsr-erase-answers")
    page.click("#dsr-erase-confirm")
    page.wait_for_selector("#dsr-erasures")
    assert steps.count == 5  # new request, save, printable page, erase, confirm: answered
    request = DataSubjectRequest.objects.get()
    assert request.status == "answered" and request.erasures.count() == 1
    assert text["erased"] in page.inner_text(f"#dsr-contact-{person.pk}")
    screenshot_of(page, "request-desk-access-then-erasure-pt-BR")


@pytest.mark.parametrize("compliance_page", ["pt-BR"], indirect=True)
def test_compliance_verifies_the_erasure_log_from_the_dashboard(compliance_page, screenshot_of):
    from contacts.models import ErasureLogVerification
    from contacts.services import erase_on_request

    page, _text = compliance_page
    erase_on_request(
        contact=ContactFactory(), requested_by="dpo", requested_by_type="admin", reason="data_subject_request"
    )
    page.goto("/admin/")
    assert "nunca verificado" in page.inner_text("#dashboard-verification")
    page.click("#dashboard-verify-now")
    page.wait_for_selector(".messagelist")
    assert "íntegro: 1 registro verificado" in page.inner_text(".messagelist")
    assert "por dpo, pelo admin" in page.inner_text("#dashboard-verification")
    run = ErasureLogVerification.objects.get()
    assert run.ok and run.verified_by == "dpo"
    screenshot_of(page, "dashboard-verified-pt-BR")
