"""The security contract every provider's endpoint keeps (anymail's webhook_cases, for crm-sync).

A provider's test class inherits ``SignatureContract`` and sets ``provider``, ``signature_header``,
``account_id`` (the account ``valid_payload()`` belongs to), ``valid_payload()``, ``body_with_new_id()`` and
``sign(body, *, secret, timestamp)``; every test here then runs against that provider.
"""

import time
from types import SimpleNamespace

import pytest

from config.settings import base as base_settings
from webhooks.models import RejectedDelivery, WebhookEvent


@pytest.mark.django_db
class SignatureContract:
    provider: str
    signature_header: str
    account_id: str

    def valid_payload(self) -> dict:
        raise NotImplementedError

    def sign(self, body: bytes, *, secret: str, timestamp: int | None = None) -> dict[str, str]:
        raise NotImplementedError

    def secrets(self, settings):
        return settings.WEBHOOK_PROVIDERS[self.provider]["SECRETS"]

    def post(self, client, body: bytes, headers: dict[str, str]):
        return client.generic(
            "POST", f"/webhooks/{self.provider}/", body, content_type="application/json", headers=headers
        )

    def body(self) -> bytes:
        import json

        return json.dumps(self.valid_payload()).encode()

    def assert_refused(self, response, status=401):
        assert response.status_code == status, response.content
        assert "error" in response.json()
        assert WebhookEvent.objects.count() == 0

    def test_valid_signature_is_accepted(self, client, settings):
        body = self.body()
        response = self.post(client, body, self.sign(body, secret=self.secrets(settings)[0]))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "accepted"
        assert WebhookEvent.objects.filter(pk=response.json()["event"]).exists()

    def test_missing_signature_is_401_and_not_stored(self, client):
        self.assert_refused(self.post(client, self.body(), {}))

    def test_wrong_secret_is_401_and_not_stored(self, client):
        body = self.body()
        self.assert_refused(self.post(client, body, self.sign(body, secret="not-the-secret-" + "x" * 20)))

    @pytest.mark.parametrize(
        "garbage", ["", "sha256=", "=", "t=,v1=", "t=abc,v1=zz", "v1=" + "g" * 64, "\u00e9\u00e9", "x" * 5000]
    )
    def test_malformed_signature_header_is_401_never_500(self, client, garbage):
        headers = {self.signature_header: garbage}
        self.assert_refused(self.post(client, self.body(), headers))

    def test_tampered_body_is_401(self, client, settings):
        body = self.body()
        headers = self.sign(body, secret=self.secrets(settings)[0])
        self.assert_refused(self.post(client, body.replace(b"}", b" }", 1), headers))

    def test_rotated_secrets_both_verify(self, client, settings):
        old, new = "old-secret-" + "a" * 24, "new-secret-" + "b" * 24
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS}
        settings.WEBHOOK_PROVIDERS[self.provider] = {
            **settings.WEBHOOK_PROVIDERS[self.provider],
            "SECRETS": [new, old],
        }
        for secret in (old, new):
            body = self.body_with_new_id()
            response = self.post(client, body, self.sign(body, secret=secret))
            assert response.status_code == 200, (secret, response.content)
        assert WebhookEvent.objects.count() == 2

    def test_secrets_read_with_spaces_around_the_commas_all_verify(self, client, settings, monkeypatch):
        # As an operator writes a rotation: a space after the comma, a trailing comma.
        old, new = "old-secret-" + "a" * 24, "new-secret-" + "b" * 24
        monkeypatch.setenv(f"{self.provider.upper()}_WEBHOOK_SECRETS", f" {new} , {old} ,")
        entry = base_settings.webhook_provider(self.provider)
        assert entry["SECRETS"] == [new, old]
        # The entry's other keys (a MODULE, a provider's own settings) as configured.
        configured = settings.WEBHOOK_PROVIDERS[self.provider]
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS, self.provider: {**configured, **entry}}
        for secret in (old, new):
            body = self.body_with_new_id()
            response = self.post(client, body, self.sign(body, secret=secret))
            assert response.status_code == 200, (secret, response.content)

    def body_with_new_id(self) -> bytes:
        raise NotImplementedError

    @pytest.fixture
    def server_clock(self, monkeypatch) -> int:
        """The receiving view's clock, stopped on a whole second: a boundary skew (301 s) must not turn
        into 300.x because the request reached the view a moment after it was signed."""
        now = int(time.time())
        monkeypatch.setattr("webhooks.views.time", SimpleNamespace(time=lambda: float(now)))
        return now

    @pytest.mark.parametrize("skew", [-301, 301, -10_000, 10_000])
    def test_timestamp_outside_tolerance_is_401(self, client, settings, server_clock, skew):
        body = self.body()
        headers = self.sign(body, secret=self.secrets(settings)[0], timestamp=server_clock + skew)
        self.assert_refused(self.post(client, body, headers))

    @pytest.mark.parametrize("skew", [-300, -290, 290, 300])
    def test_timestamp_inside_tolerance_is_accepted(self, client, settings, server_clock, skew):
        body = self.body()
        headers = self.sign(body, secret=self.secrets(settings)[0], timestamp=server_clock + skew)
        assert self.post(client, body, headers).status_code == 200

    def test_unconfigured_provider_is_503(self, client, settings):
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS}
        settings.WEBHOOK_PROVIDERS[self.provider] = {**settings.WEBHOOK_PROVIDERS[self.provider], "SECRETS": []}
        body = self.body()
        self.assert_refused(self.post(client, body, self.sign(body, secret="whatever-" + "z" * 30)), status=503)

    def test_rejections_are_counted_without_the_body(self, client):
        self.post(client, self.body(), {})
        self.post(client, self.body(), {})
        counts = list(RejectedDelivery.objects.filter(provider=self.provider).values_list("count", flat=True))
        assert sum(counts) == 2

    def test_get_is_405(self, client):
        response = client.get(f"/webhooks/{self.provider}/")
        assert response.status_code == 405
        assert response.json()["error"]

    def test_secret_retired_after_rotation_no_longer_verifies(self, client, settings):
        old, new = "old-secret-" + "a" * 24, "new-secret-" + "b" * 24
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS}
        settings.WEBHOOK_PROVIDERS[self.provider] = {**settings.WEBHOOK_PROVIDERS[self.provider], "SECRETS": [new]}
        body = self.body()
        self.assert_refused(self.post(client, body, self.sign(body, secret=old)))

    def test_signed_body_that_is_not_an_object_is_400_not_stored(self, client, settings):
        body = b"[]"
        self.assert_refused(self.post(client, body, self.sign(body, secret=self.secrets(settings)[0])), status=400)

    def test_signed_event_of_an_account_outside_the_allow_list_is_403_not_stored(self, client, settings):
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS}
        settings.WEBHOOK_PROVIDERS[self.provider] = {
            **settings.WEBHOOK_PROVIDERS[self.provider],
            "ACCOUNT_IDS": ["some-other-account"],
        }
        body = self.body()
        response = self.post(client, body, self.sign(body, secret=self.secrets(settings)[0]))
        self.assert_refused(response, status=403)
        assert self.account_id in response.json()["error"]

    def test_account_in_the_allow_list_is_accepted(self, client, settings):
        settings.WEBHOOK_PROVIDERS = {**settings.WEBHOOK_PROVIDERS}
        settings.WEBHOOK_PROVIDERS[self.provider] = {
            **settings.WEBHOOK_PROVIDERS[self.provider],
            "ACCOUNT_IDS": ["some-other-account", self.account_id],
        }
        body = self.body()
        assert self.post(client, body, self.sign(body, secret=self.secrets(settings)[0])).status_code == 200

    def test_redelivery_with_a_fresh_signature_is_answered_duplicate(self, client, settings):
        body = self.body()
        first = self.post(client, body, self.sign(body, secret=self.secrets(settings)[0])).json()
        second = self.post(
            client, body, self.sign(body, secret=self.secrets(settings)[0], timestamp=int(time.time()) - 60)
        )
        assert second.status_code == 200
        assert second.json() == {"status": "duplicate", "event": first["event"]}
        assert WebhookEvent.objects.count() == 1

    def test_signature_header_is_never_stored(self, client, settings):
        body = self.body()
        self.post(client, body, self.sign(body, secret=self.secrets(settings)[0]))
        stored = WebhookEvent.objects.get().headers
        assert self.signature_header not in stored
        assert self.signature_header.lower() not in {name.lower() for name in stored}
