"""The whole provider contract, run on every configured provider and on a throwaway third one that is only
its module, its samples and its settings entry (tests/webhooks/third_provider/): signatures (the security
contract of tests/webhooks/signature_cases.py), envelopes, its demo builder through the real endpoint, and
the secret ``make run`` writes for it. The fuzz of signed envelopes runs on the same providers
(test_fuzz_signed_envelopes.py)."""

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from config.demo_env import demo_env_text
from config.settings import base as base_settings
from contacts.models import Contact, ErasureRecord
from tests.webhooks.provider_contract import (
    CONTRACT_PROVIDERS,
    THIRD_PROVIDER,
    creation_name,
    identity,
)
from tests.webhooks.signature_cases import SignatureContract
from webhooks.demo import load_demo
from webhooks.demo_people import ChangeKind, demo_history
from webhooks.models import WebhookEvent, WebhookEventStatus
from webhooks.providers import get_provider, provider_class, provider_names
from webhooks.providers.fields import EnvelopeError
from webhooks.providers.signing import SignatureError
from webhooks.samples import load_sample, sample_names

ENDS = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize("provider", CONTRACT_PROVIDERS)
@pytest.mark.usefixtures("configured")
class TestEveryProvider:
    def test_every_sample_it_signs_verifies_and_a_tampered_or_stale_one_does_not(self, provider):
        instance = get_provider(provider)
        for name in sample_names(provider):
            now = time.time()
            body, headers = instance.signed_delivery(load_sample(provider, name), now=datetime.fromtimestamp(now, UTC))
            assert instance.verify(headers=headers, body=body, now=now)
            with pytest.raises(SignatureError):
                instance.verify(headers=headers, body=body + b" ", now=now)
            with pytest.raises(SignatureError):
                instance.verify(headers=headers, body=body, now=now + 2 * instance.tolerance_seconds)

    def test_every_sample_parses_to_its_contact_and_what_is_no_envelope_is_refused(self, provider):
        instance = get_provider(provider)
        for name in sample_names(provider):
            delivery = instance.parse(json.dumps(load_sample(provider, name)).encode())
            assert delivery.event_type == name and delivery.dedupe_key and delivery.account_id
            assert delivery.external_id or delivery.subject_unreadable
        for body in (b"", b"not json", b"[]", b'"text"', b"{}"):
            with pytest.raises(EnvelopeError):
                instance.parse(body)

    def test_its_demo_builder_speaks_its_shape_through_the_endpoint(self, provider, db):
        answers = load_demo(60, seed=2, ends=ENDS)

        weights = {name: get_provider(name).demo_weight for name in provider_names()}
        history = [c for c in demo_history(60, seed=2, providers=weights, ends=ENDS) if c.person.provider == provider]
        assert set(answers) == {200}
        assert not WebhookEvent.objects.exclude(status__in=[WebhookEventStatus.PROCESSED,
                                                            WebhookEventStatus.IGNORED]).exists()  # fmt: skip
        people = {change.person.number for change in history}
        assert Contact.objects.filter(provider=provider).count() == len(people) >= 10
        deleted = [change for change in history if change.kind == ChangeKind.DELETED]
        assert deleted and ErasureRecord.objects.filter(provider=provider).count() == len(deleted)
        assert Contact.objects.filter(provider=provider, erased_at__isnull=False).count() == len(deleted)
        # Its own ids, kept apart from the other providers' people.
        created = next(change for change in history if change.kind == ChangeKind.CREATED)
        payload = get_provider(provider).demo_payloads(created)[0]
        assert Contact.objects.filter(provider=provider, **identity(provider, payload)).exists()

    def test_make_run_writes_a_secret_it_reads(self, provider, monkeypatch):
        example = (Path(django_settings.BASE_DIR) / ".env.example").read_text()
        text = demo_env_text(example, provider_names())
        variable = f"{provider.upper()}_WEBHOOK_SECRETS"
        (secret,) = re.findall(rf"^{variable}=(.*)$", text, re.MULTILINE)
        assert len(secret) >= provider_class(provider).min_secret_length
        monkeypatch.setenv(variable, secret)
        assert base_settings.webhook_provider(provider)["SECRETS"] == [secret]


def signature_contract(name: str) -> type:
    """The security contract for ``name``, from its module and samples only."""

    class Contract(SignatureContract):
        provider = name

        @pytest.fixture(autouse=True)
        def _configured(self, settings):
            if name in THIRD_PROVIDER:
                settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS, name: THIRD_PROVIDER[name]}

        @property
        def signature_header(self) -> str:
            headers = get_provider(name).signed_sample_headers(b"{}", now=1_700_000_000)
            return next(header for header, value in headers.items() if value != "1700000000")

        @property
        def account_id(self) -> str:
            return identity(name, self.valid_payload())["account_id"]

        def valid_payload(self) -> dict:
            return load_sample(name, creation_name(name))

        def body_with_new_id(self) -> bytes:
            fresh = get_provider(name).fresh_sample(self.valid_payload(), now=datetime.now(UTC))
            return json.dumps(fresh).encode()

        def sign(self, body, *, secret, timestamp=None):
            instance = provider_class(name)({"SECRETS": [secret]}, tolerance_seconds=300)
            return instance.signed_sample_headers(body, now=time.time() if timestamp is None else timestamp)

    Contract.__name__ = Contract.__qualname__ = f"Test{name.title()}KeepsTheSignatureContract"
    return Contract


for _name in CONTRACT_PROVIDERS:
    globals()[f"Test{_name.title()}KeepsTheSignatureContract"] = signature_contract(_name)
