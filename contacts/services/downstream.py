"""The downstream systems: their secrets, keeping the outbound sender's endpoint of each in step, a test message.

``outbound()`` is the one crossing into ``webhooks`` (through the bridge): ``contacts`` says what to send
and to whom, the sender signs and delivers.
"""

import base64
import binascii
import re
import secrets

from django.db import transaction
from django.utils import timezone

from contacts.models import DownstreamKind, DownstreamSystem
from webhooks.bridge import stored_events

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_problem(secret: str) -> str | None:
    """Why this is not a usable Standard Webhooks secret (None when it is). Never echoes the secret."""
    if not secret.startswith(SECRET_PREFIX):
        return "a secret starts with whsec_"
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        raw = base64.b64decode(encoded, validate=True) if _BASE64.match(encoded) else b""
    except binascii.Error:
        raw = b""
    if len(raw) < MIN_SECRET_BYTES:
        return f"a secret is whsec_ followed by the base64 of at least {MIN_SECRET_BYTES} random bytes"
    return None


def masked(secret: str) -> str:
    """How a stored secret is named on screen: never its value, only its last four characters."""
    return f"{SECRET_PREFIX}…{secret[-4:]}"


def outbound():
    """The outbound sender, reached through the bridge (the one crossing into ``webhooks``)."""
    return stored_events()


def save_downstream_system(system: DownstreamSystem) -> DownstreamSystem:
    """Save the system and keep the sender's endpoint for it in step (URL, secrets, active)."""
    with transaction.atomic():
        system.save()
        if system.kind == DownstreamKind.WEBHOOK:
            outbound().configure_outbound_endpoint(
                key=system.endpoint_key, label=system.name, url=system.url, secrets=system.secrets,
                active=system.active,
            )  # fmt: skip
    return system


def remove_downstream_system(system: DownstreamSystem) -> None:
    """Remove the system; its propagation entries keep its name, the sender keeps its messages (inactive)."""
    with transaction.atomic():
        if system.kind == DownstreamKind.WEBHOOK:
            outbound().configure_outbound_endpoint(
                key=system.endpoint_key, label=system.name, url=system.url, secrets=system.secrets, active=False
            )
        system.delete()


def ping(system: DownstreamSystem) -> str:
    """Queue a test message (``ping``, no contact in it) to a webhook system; returns its message id."""
    now = timezone.now()
    return outbound().queue_messages(
        endpoint_keys=[system.endpoint_key], event_type="ping", at=now,
        data={"system": system.name},
    )  # fmt: skip
