"""Where messages may go: decided on the address connected to, with OUTBOUND_ALLOWED_NETWORKS."""

import ipaddress

import pytest

from webhooks.outbound.addresses import RefusedAddress, address_refusal, resolve_target
from webhooks.outbound.dispatcher import OutboundDispatcher
from webhooks.outbound.http import post_message
from webhooks.outbound.models import OutboundAttempt, OutboundMessage
from webhooks.outbound.queue import configure_endpoint, queue_messages


def refusal(address: str, scheme: str = "https") -> str | None:
    return address_refusal(ipaddress.ip_address(address), scheme=scheme)


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"])
def test_cloud_metadata_addresses_are_refused_even_inside_an_allowed_network(settings, address):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["169.254.0.0/16", "fd00::/8", "::ffff:0:0/96"]
    assert refusal(address, "http") == "a cloud metadata address"
    assert refusal(address, "https") == "a cloud metadata address"


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.10", "127.0.0.1", "169.254.10.1", "::1", "fe80::1",
                                     "fc00::5", "0.0.0.0", "100.64.0.1"])  # fmt: skip
def test_non_public_addresses_are_refused_unless_their_network_is_allowed(settings, address):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    assert refusal(address) is not None
    settings.OUTBOUND_ALLOWED_NETWORKS = [str(ipaddress.ip_network(address))]
    assert refusal(address, "http") is None and refusal(address, "https") is None


def test_public_addresses_only_over_https(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    assert refusal("93.184.215.14", "https") is None
    assert refusal("93.184.215.14", "http") == "a public address over http:// (https:// only)"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "https:///nohost", "http://user:pw@127.0.0.1/", "not a url",
                                 "http://[::1/"])  # fmt: skip
def test_urls_that_cannot_be_sent_to_are_refused(settings, url):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    with pytest.raises(RefusedAddress):
        resolve_target(url)


def test_a_name_is_checked_on_the_address_it_resolves_to(settings, receivers):
    receiver = receivers()
    port_url = receiver.url.replace("127.0.0.1", "localhost")
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(RefusedAddress, match="not in OUTBOUND_ALLOWED_NETWORKS"):
        resolve_target(port_url)  # localhost resolves to loopback, which is not allowed
    result = post_message(url=port_url, message_id="msg_1", body="{}", secrets=["whsec_" + "A" * 32])
    assert result.error == "refused_address" and receiver.requests == []

    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    result = post_message(url=port_url, message_id="msg_1", body="{}", secrets=["whsec_" + "A" * 32])
    assert result.delivered and receiver.requests[0].headers["host"].startswith("localhost:")


def test_a_name_resolving_to_the_metadata_address_is_refused_before_any_connection(settings, monkeypatch):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["169.254.0.0/16"]
    connected = []
    monkeypatch.setattr("socket.getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("169.254.169.254", port))])
    monkeypatch.setattr("socket.create_connection", lambda *a, **kw: connected.append(a))
    with pytest.raises(RefusedAddress, match="metadata"):
        resolve_target("http://metadata.internal.example/latest/")
    result = post_message(url="http://metadata.internal.example/latest/", message_id="m", body="{}",
                          secrets=["whsec_" + "A" * 32])  # fmt: skip
    assert result.error == "refused_address" and connected == []


@pytest.mark.django_db(transaction=True)
def test_a_refused_address_is_a_failed_try_recorded_without_contacting_anything(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    configure_endpoint(key="meta", label="meta", url="http://169.254.169.254/latest/meta-data/",
                       secrets=["whsec_" + "A" * 32], active=True)  # fmt: skip
    queue_messages(endpoint_keys=["meta"], event_type="contact.erased", data={"id": 1},
                   at=__import__("django.utils.timezone").utils.timezone.now())  # fmt: skip
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    message = OutboundMessage.objects.get()
    assert message.status == "pending" and message.last_error == "refused_address" and message.attempts == 1
    assert OutboundAttempt.objects.get().status_code is None


@pytest.mark.django_db(transaction=True)
def test_a_system_whose_name_resolves_to_a_refused_address_gets_nothing_from_the_worker(settings, receivers):
    receiver = receivers()
    settings.OUTBOUND_ALLOWED_NETWORKS = []  # loopback no longer allowed: "localhost" resolves only to it
    configure_endpoint(key="by-name", label="by-name", url=receiver.url.replace("127.0.0.1", "localhost"),
                       secrets=["whsec_" + "A" * 32], active=True)  # fmt: skip
    queue_messages(endpoint_keys=["by-name"], event_type="contact.erased", data={"id": 1},
                   at=__import__("django.utils.timezone").utils.timezone.now())  # fmt: skip
    OutboundDispatcher(poll_seconds=0.2).deliver_due()
    message = OutboundMessage.objects.get()
    assert receiver.requests == []
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "refused_address")
