"""The security contract every provider's endpoint keeps (anymail's webhook_cases, for crm-sync).

A provider's test class inherits ``SignatureContract`` and sets ``provider``, ``valid_payload()`` and
``sign(body, *, secret, timestamp)``; every test here then runs against that provider.
"""

import time

import pytest

from webhooks.models import RejectedDelivery, WebhookEvent


@pytest.mark.django_db
class SignatureContract:
    provider: str
    signature_header: str

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

    def body_with_new_id(self) -> bytes:
        raise NotImplementedError

    @pytest.mark.parametrize("skew", [-301, 301, -10_000, 10_000])
    def test_timestamp_outside_tolerance_is_401(self, client, settings, skew):
        body = self.body()
        headers = self.sign(body, secret=self.secrets(settings)[0], timestamp=int(time.time()) + skew)
        self.assert_refused(self.post(client, body, headers))

    @pytest.mark.parametrize("skew", [-290, 290])
    def test_timestamp_inside_tolerance_is_accepted(self, client, settings, skew):
        body = self.body()
        headers = self.sign(body, secret=self.secrets(settings)[0], timestamp=int(time.time()) + skew)
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
