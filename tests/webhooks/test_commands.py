import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from contacts.models import Contact
from tests.factories import WebhookEventFactory
from webhooks.models import WebhookEvent, WebhookEventStatus


@pytest.mark.django_db(transaction=True)
def test_send_test_webhook_signs_and_posts_a_sample_to_a_running_server(live_server):
    output = io.StringIO()
    url = f"{live_server.url}/webhooks/timely/"
    call_command("send_test_webhook", "timely", "contact.created", "--url", url, stdout=output)
    assert output.getvalue().startswith('200 {"status": "accepted"')
    call_command("send_test_webhook", "timely", "contact.created", "--url", url, stdout=output)
    assert WebhookEvent.objects.count() == 2  # a fresh event id each time
    assert Contact.objects.get().name == "Ana Costa"

    call_command("send_test_webhook", "timely", "contact.created", "--url", url, "--same-id", stdout=output)
    call_command("send_test_webhook", "timely", "contact.created", "--url", url, "--same-id", stdout=output)
    assert output.getvalue().splitlines()[-1].startswith('200 {"status": "duplicate"')


@pytest.mark.django_db
def test_send_test_webhook_explains_unknown_samples_and_unreachable_servers():
    with pytest.raises(CommandError, match="known: contact.created"):
        call_command("send_test_webhook", "timely", "contact.merged", "--url", "http://127.0.0.1:9/")
    with pytest.raises(CommandError, match="could not reach"):
        call_command("send_test_webhook", "timely", "contact.created", "--url", "http://127.0.0.1:9/")


@pytest.fixture
def https_redirecting_server():
    """A plain-HTTP server on 127.0.0.1 that answers every POST as production settings do over plain HTTP: a
    permanent redirect to the same address in https://."""

    class RedirectToHttps(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(301)
            self.send_header("Location", f"https://127.0.0.1:{self.server.server_port}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RedirectToHttps)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_send_test_webhook_explains_an_https_redirect_instead_of_a_tls_error(https_redirecting_server):
    port = https_redirecting_server
    with pytest.raises(CommandError, match="redirected to HTTPS") as redirected:
        call_command("send_test_webhook", "timely", "contact.created", "--url", f"http://127.0.0.1:{port}/webhooks/timely/")
    assert "SECURE_SSL_REDIRECT" in str(redirected.value) and "WRONG_VERSION_NUMBER" not in str(redirected.value)
    with pytest.raises(CommandError, match="answered in plain HTTP, not TLS") as plain:
        call_command("send_test_webhook", "timely", "contact.created", "--url", f"https://127.0.0.1:{port}/webhooks/timely/")
    assert "WRONG_VERSION_NUMBER" not in str(plain.value)


@pytest.mark.django_db
def test_reprocess_selects_failed_by_default_or_explicit_ids(django_capture_on_commit_callbacks):
    failed = WebhookEventFactory(status=WebhookEventStatus.FAILED, event_type="conversation.created")
    processed = WebhookEventFactory(status=WebhookEventStatus.PROCESSED, event_type="conversation.created")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reprocess_webhook_events", stdout=io.StringIO())
    failed.refresh_from_db()
    processed.refresh_from_db()
    assert failed.status == WebhookEventStatus.IGNORED  # replayed: unknown family, now ignored
    assert processed.status == WebhookEventStatus.PROCESSED and processed.attempts == 0

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reprocess_webhook_events", "--id", str(processed.pk), stdout=io.StringIO())
    processed.refresh_from_db()
    assert processed.attempts == 1

    with pytest.raises(CommandError, match="no such event: 999"):
        call_command("reprocess_webhook_events", "--id", "999")


@pytest.mark.django_db
def test_setup_demo_creates_the_login_and_loads_the_samples(settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True
    output = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("setup_demo", "--people", "0", stdout=output)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("setup_demo", "--people", "0", stdout=output)  # idempotent: the second run only sees duplicates
    assert get_user_model().objects.get(username="admin").check_password("admin")
    assert Contact.objects.get(provider="timely").name == "Ana Costa Ribeiro"
    fpt_contact = Contact.objects.get(provider="fpt")
    assert (fpt_contact.account_id, fpt_contact.external_id) == ("48213", "9917342")
    assert (fpt_contact.status, fpt_contact.sub_group_id, fpt_contact.needs_refresh) == ("Members", "5521", True)
    assert "duplicate" in output.getvalue()
    assert not WebhookEvent.objects.filter(event_type="contact.deleted").exists()


@pytest.mark.django_db
def test_setup_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("setup_demo")
