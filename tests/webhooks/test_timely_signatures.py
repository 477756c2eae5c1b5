import json
import uuid

import pytest

from tests.conftest import load_fixture, timely_headers
from tests.webhooks.signature_cases import SignatureContract
from webhooks.models import WebhookEvent


class TestTimelySignatures(SignatureContract):
    provider = "timely"
    signature_header = "X-Timely-Signature"
    account_id = "ws_abc123"

    def valid_payload(self):
        return load_fixture("timely", "contact.created")

    def body_with_new_id(self):
        return json.dumps({**self.valid_payload(), "event_id": f"evt_{uuid.uuid4().hex}"}).encode()

    def sign(self, body, *, secret, timestamp=None):
        return timely_headers(body, secret=secret, timestamp=timestamp)


@pytest.mark.django_db
class TestTimelySignatureForms:
    def post(self, client, body, headers):
        return client.generic("POST", "/webhooks/timely/", body, content_type="application/json", headers=headers)

    def test_body_only_form_verifies_and_is_recorded(self, client):
        body = json.dumps(load_fixture("timely", "contact.created")).encode()
        response = self.post(client, body, timely_headers(body, form="body"))
        assert response.status_code == 200
        assert WebhookEvent.objects.get().signature_form == "timely-body"

    def test_timestamped_form_is_recorded(self, client):
        body = json.dumps(load_fixture("timely", "contact.created")).encode()
        self.post(client, body, timely_headers(body))
        assert WebhookEvent.objects.get().signature_form == "timely-timestamped"

    def test_sha256_prefix_is_optional_and_hex_case_insensitive(self, client):
        body = json.dumps(load_fixture("timely", "contact.created")).encode()
        headers = timely_headers(body)
        headers["X-Timely-Signature"] = headers["X-Timely-Signature"].removeprefix("sha256=").upper()
        assert self.post(client, body, headers).status_code == 200

    def test_malformed_timestamp_header_is_401(self, client):
        body = json.dumps(load_fixture("timely", "contact.created")).encode()
        headers = timely_headers(body)
        headers["X-Timely-Timestamp"] = "yesterday"
        response = self.post(client, body, headers)
        assert response.status_code == 401
        assert "X-Timely-Timestamp" in response.json()["error"]

    def test_signature_and_credentials_are_not_stored_with_the_event(self, client):
        body = json.dumps(load_fixture("timely", "contact.created")).encode()
        headers = {**timely_headers(body), "Authorization": "Bearer abc", "Cookie": "sessionid=x", "User-Agent": "T/1"}
        self.post(client, body, headers)
        stored = WebhookEvent.objects.get().headers
        assert stored["User-Agent"] == "T/1"
        assert "X-Timely-Timestamp" in stored
        assert not {"Authorization", "Cookie", "X-Timely-Signature"} & set(stored)
