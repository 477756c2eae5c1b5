"""Adding a provider is one module, its samples and one settings entry, nothing else: a throwaway third one
(tests/webhooks/third_provider/acme.py, samples beside it) goes the whole way, from a signed delivery to an
erasure; and a provider that is configured but cannot be found fails ``manage.py check``."""

import json

import pytest
from django.core.checks import Error, Warning
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from contacts.models import Contact, ErasureRecord
from webhooks import samples
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers import UnknownProvider, get_provider, provider_names
from webhooks.providers.checks import check_webhook_providers
from webhooks.providers.fields import REDACTED

ACME = {"MODULE": "tests.webhooks.third_provider.acme", "SECRETS": ["acme-test-secret-0123456789"]}
PERSON = ("Grace Hopper", "grace@example.com")


@pytest.fixture
def with_providers(settings):
    """Configure WEBHOOK_PROVIDERS as the real entries plus the given ones (the one settings entry)."""

    def configure(**entries):
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS, **entries}

    return configure


@pytest.fixture
def acme(with_providers):
    with_providers(acme=ACME)


@pytest.fixture
def send_sample(client, django_capture_on_commit_callbacks):
    """POST a sample as ``send_test_webhook`` signs it, and run what was scheduled after commit."""

    def send(provider, name, *, tamper=False):
        body, headers = samples.signed_sample(provider, name, fresh=False)
        body = body.replace(b"Grace", b"Grace!") if tamper else body
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic(
                "POST", f"/webhooks/{provider}/", body, content_type="application/json",
                headers={k: v for k, v in headers.items() if k != "Content-Type"},
            )  # fmt: skip

    return send


@pytest.mark.django_db
class TestAThirdProvider:
    def test_its_signed_delivery_is_stored_and_applied_to_a_contact(self, acme, send_sample):
        response = send_sample("acme", "person.created")

        stored = WebhookEvent.objects.get(provider="acme")
        assert response.status_code == 200
        assert response.json() == {"status": "accepted", "event": stored.pk}
        assert (stored.event_id, stored.account_id, stored.external_id) == ("acme_evt_1", "acc_1", "p_77")
        assert stored.status == WebhookEventStatus.PROCESSED
        contact = Contact.objects.get(provider="acme", account_id="acc_1", external_id="p_77")
        assert (contact.name, contact.email) == PERSON

    def test_a_delivery_it_did_not_sign_is_refused(self, acme, send_sample):
        assert send_sample("acme", "person.created", tamper=True).status_code == 401
        assert not WebhookEvent.objects.exists()

    def test_its_deletion_erases_the_contact_and_redacts_its_stored_payloads(self, acme, send_sample):
        send_sample("acme", "person.created")
        assert send_sample("acme", "person.deleted").status_code == 200

        contact = Contact.objects.get(provider="acme", external_id="p_77")
        assert contact.is_erased and contact.name == "" and contact.email == ""
        assert ErasureRecord.objects.filter(provider="acme", external_id="p_77").count() == 1
        created = WebhookEvent.objects.get(event_type="person.created")
        assert created.redacted_at is not None
        # Redacted from the provider's own description: its personal data is under "person", not "data".
        assert created.payload["person"] == {"id": "p_77", "full_name": REDACTED, "mail": REDACTED}
        for event in WebhookEvent.objects.all():
            assert not any(value.encode() in bytes(event.body) for value in PERSON)

    def test_send_test_webhook_and_the_demo_find_its_samples(self, acme, test_webhook_posts, capsys):
        assert "acme" in provider_names()
        assert samples.sample_names("acme") == ["person.created", "person.deleted"]

        call_command("send_test_webhook", "acme", "person.created", "--url", "http://127.0.0.1:8100/webhooks/acme/")
        assert '"accepted"' in capsys.readouterr().out
        stored = WebhookEvent.objects.get(provider="acme")
        # A fresh sample: a new event id, the sample's own person.
        assert stored.event_id.startswith("acme_") and stored.event_id != "acme_evt_1"
        assert json.loads(bytes(stored.body))["person"]["full_name"] == "Grace Hopper"

    def test_the_startup_check_accepts_it(self, acme):
        assert check_webhook_providers(None) == []


class TestStartupCheck:
    def test_a_provider_whose_class_is_named_otherwise_is_an_error_not_a_404_later(self, with_providers):
        # The module's class is named "acme": configured as "acme_corp", it would be a silent 404.
        with_providers(acme_corp=ACME)

        problems = check_webhook_providers(None)

        assert [(type(p), p.id) for p in problems] == [(Error, "webhooks.E001")]
        assert "'acme_corp'" in problems[0].msg and "'acme'" in problems[0].msg
        with pytest.raises(SystemCheckError, match="webhooks.E001"):
            call_command("check")
        with pytest.raises(UnknownProvider):
            get_provider("acme_corp")

    def test_a_configured_provider_without_module_is_an_error(self, with_providers):
        with_providers(ghost={"SECRETS": ["ghost-secret"]})

        problems = check_webhook_providers(None)

        assert [(type(p), p.id) for p in problems] == [(Error, "webhooks.E001")]
        assert "no module webhooks.providers.ghost" in problems[0].msg
        with pytest.raises(SystemCheckError, match="webhooks.E001"):
            call_command("check")

    def test_an_implemented_provider_that_is_not_configured_is_a_warning(self, settings):
        settings.WEBHOOK_PROVIDERS = {"timely": settings.WEBHOOK_PROVIDERS["timely"]}

        problems = check_webhook_providers(None)

        assert [(type(p), p.id) for p in problems] == [(Warning, "webhooks.W001")]
        assert "webhooks.providers.fpt" in problems[0].msg

    def test_the_real_providers_pass(self):
        assert check_webhook_providers(None) == []

    @pytest.mark.django_db
    def test_at_runtime_a_misconfigured_provider_answers_404_as_before(self, with_providers, client):
        with_providers(acme_corp=ACME, ghost={"SECRETS": ["ghost-secret"]})
        for name in ("acme_corp", "ghost"):
            assert client.post(f"/webhooks/{name}/", b"{}", content_type="application/json").status_code == 404
