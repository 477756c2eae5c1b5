"""The address a request came from, as our own proxies saw it: one answer for the webhook log and for
django-axes' login throttling (``AXES_CLIENT_IP_CALLABLE``)."""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """REMOTE_ADDR, or the address our own trusted proxies saw (X-Forwarded-For read from the right)."""
    proxies = settings.WEBHOOK_TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR")
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        # Whatever a proxy forwarded must fit the inet column, or storing would fail with a 503.
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
