"""Where outbound messages may go, decided on the address actually connected to (not only on the name).

Public addresses over ``https://`` only; private, loopback, link-local and other non-public networks only
when listed in ``OUTBOUND_ALLOWED_NETWORKS`` (``http://`` allowed there); cloud metadata addresses never,
whatever is listed. A name is resolved once per try and the connection is made to the address that was
checked, so a name that resolves to a refused address (or changes its answer between a check and the
connection) reaches nothing.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from config.ops.failures import DescribableError

# The instance metadata services of the clouds (AWS, GCP, Azure, ...): credentials live there.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(DescribableError):
    """The URL, or every address its name resolves to, is not a place messages may go."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (the name TLS verifies)
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked address the connection is made to


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in settings.OUTBOUND_ALLOWED_NETWORKS if cidr]


def address_refusal(address: IPAddress, *, scheme: str) -> str | None:
    """Why messages may not go to this address over this scheme; None when they may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if any(address in network for network in allowed_networks()):
        return None
    if not address.is_global or address.is_multicast:
        return "a private, loopback or link-local address not in OUTBOUND_ALLOWED_NETWORKS"
    if scheme != "https":
        return "a public address over http:// (https:// only)"
    return None


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of a URL messages could go to, or RefusedAddress saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedAddress("not a valid URL") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise RefusedAddress("only http:// and https:// URLs with a host")
    if parts.username or parts.password:
        raise RefusedAddress("credentials in the URL are not sent")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme], path


def resolve_target(url: str) -> Target:
    """The URL's parts and the first of its addresses that messages may go to."""
    scheme, host, port, path = parse_url(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise RefusedAddress("the name does not resolve") from None
        candidates = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    refusals = []
    for candidate in candidates:
        refusal = address_refusal(candidate, scheme=scheme)
        if refusal is None:
            return Target(scheme=scheme, host=host, port=port, path=path, address=str(candidate))
        refusals.append(refusal)
    raise RefusedAddress(f"refused: {refusals[0]}")
