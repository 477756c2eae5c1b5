"""How the receiver reads a body: chunked like any other, never past the limit, and a body that is cut
short or stops arriving is a clear error (never a forgery, never a 500).

A chunked request has no Content-Length: the WSGI server decodes the chunks and, when it delivers the
body's real end, says so with ``wsgi.input_terminated`` (gunicorn does; tests/webhooks/test_under_gunicorn.py
sends real chunked requests to it). Here the test client stands in for such a server.
"""

import io
import json

import pytest

from tests.conftest import SIGNERS, load_fixture
from webhooks.models import RejectedDelivery, WebhookEvent, WebhookEventStatus

pytestmark = pytest.mark.django_db


class CountingInput(io.BytesIO):
    """A server's decoded input stream that remembers how much the application asked of it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1, /):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


class StalledInput:
    """A client that stopped sending: the server's read times out (or fails some other way)."""

    def __init__(self, error: Exception):
        self.error = error

    def read(self, size=-1, /):
        raise self.error

    readline = read


@pytest.fixture
def post_chunked(client, django_capture_on_commit_callbacks):
    """POST a body the way a server hands over a chunked request: no Content-Length, the decoded bytes."""

    def post(provider: str, body: bytes, *, stream=None, terminated: bool = True, sign: bool = True):
        headers = {**(SIGNERS[provider](body) if sign else {}), "Transfer-Encoding": "chunked"}
        environ = {"wsgi.input": stream if stream is not None else CountingInput(body), "CONTENT_LENGTH": ""}
        if terminated:
            environ["wsgi.input_terminated"] = True
        with django_capture_on_commit_callbacks(execute=True):
            return client.generic(
                "POST", f"/webhooks/{provider}/", b"", content_type="application/json", headers=headers, **environ
            )

    return post


@pytest.mark.parametrize("provider", ["timely", "fpt"])
def test_a_signed_chunked_body_is_read_whole_verified_and_stored(post_chunked, provider):
    body = json.dumps(load_fixture(provider, "contact.created")).encode()

    response = post_chunked(provider, body)

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body
    assert event.status != WebhookEventStatus.RECEIVED
    assert not RejectedDelivery.objects.exists()


def test_a_chunked_body_over_the_limit_is_413_reading_no_more_than_the_limit_and_one(post_chunked, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1_048_576
    stream = CountingInput(b"x" * 3_000_000)

    response = post_chunked("timely", b"", stream=stream, sign=False)

    assert response.status_code == 413
    assert stream.bytes_read == settings.WEBHOOK_MAX_BODY_BYTES + 1
    assert not WebhookEvent.objects.exists()
    assert not RejectedDelivery.objects.exists()  # too large is not a forgery


def test_a_chunked_body_exactly_at_the_limit_is_read(post_chunked, settings):
    body = json.dumps(load_fixture("timely", "contact.created")).encode()
    settings.WEBHOOK_MAX_BODY_BYTES = len(body)
    assert post_chunked("timely", body).status_code == 200


def test_a_chunked_body_from_a_server_that_cannot_say_where_it_ends_is_411(post_chunked):
    body = json.dumps(load_fixture("timely", "contact.created")).encode()

    response = post_chunked("timely", body, terminated=False)

    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]
    assert not RejectedDelivery.objects.exists()


def test_a_chunked_forgery_is_still_401(post_chunked):
    body = json.dumps(load_fixture("timely", "contact.created")).encode()
    assert post_chunked("timely", body, sign=False).status_code == 401
    assert RejectedDelivery.objects.get().count == 1


STALLS = [(TimeoutError("timed out"), 408), (ConnectionResetError("reset"), 400), (RuntimeError("bad chunk"), 400)]


@pytest.mark.parametrize(("error", "status"), STALLS)
def test_a_chunked_body_that_stops_arriving_or_breaks_is_refused_clearly(post_chunked, error, status):
    response = post_chunked("timely", b"", stream=StalledInput(error), sign=False)

    assert response.status_code == status
    assert "error" in response.json()
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(("error", "status"), STALLS)
def test_a_body_that_stops_before_its_content_length_is_refused_clearly(client, error, status):
    # The lying client: declares 1000 bytes and stops sending; gunicorn's read timeout ends the wait.
    response = client.generic(
        "POST", "/webhooks/timely/", b"", content_type="application/json",
        **{"wsgi.input": StalledInput(error), "CONTENT_LENGTH": "1000"},
    )  # fmt: skip

    assert response.status_code == status
    assert "error" in response.json()
    assert not RejectedDelivery.objects.exists()


def test_a_body_shorter_than_its_content_length_is_400_not_a_forgery(client):
    body = json.dumps(load_fixture("timely", "contact.created")).encode()
    headers = SIGNERS["timely"](body)

    response = client.generic(
        "POST", "/webhooks/timely/", b"", content_type="application/json", headers=headers,
        **{"wsgi.input": io.BytesIO(body[:40]), "CONTENT_LENGTH": str(len(body))},
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json() == {"error": "body shorter than its Content-Length"}
    assert not RejectedDelivery.objects.exists()


@pytest.mark.parametrize("length", ["-1", "ten", "1e3"])
def test_an_unreadable_content_length_is_400(client, length):
    response = client.generic(
        "POST", "/webhooks/timely/", b"{}", content_type="application/json", **{"CONTENT_LENGTH": length}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid Content-Length"}
