"""HMAC-SHA256 signatures as the providers send them: the parts every scheme shares, so that each
provider module only reads its own header."""

import hashlib
import hmac
import re
from collections.abc import Iterable

# A SHA-256 HMAC in hex, as every provider sends it.
HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# Unix seconds in ASCII digits, bounded: str.isdigit() admits '²', and int() refuses 4,300+ digits.
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    """The request is not provably from the provider. The message is safe to send back."""


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def timestamped(timestamp: str, body: bytes) -> bytes:
    """``"{timestamp}.{body}"``: what a timestamped signature signs."""
    return timestamp.encode() + b"." + body


def any_signature_matches(candidates: Iterable[str], expected: Iterable[str]) -> bool:
    """Constant-time comparison of every candidate with every expected signature."""
    matched = False
    expected = list(expected)
    for candidate in candidates:
        for value in expected:
            # No early exit: the time taken does not tell which pair matched.
            matched |= hmac.compare_digest(candidate.encode(), value.encode())
    return matched


def signed_by_any(signatures: Iterable[str], message: bytes, secrets: Iterable[str]) -> bool:
    """True when any of ``signatures`` (lower-case hex) is the HMAC of ``message`` under any secret."""
    return any_signature_matches(signatures, (hmac_sha256_hex(secret, message) for secret in secrets))


def check_fresh(timestamp: str, *, now: float, tolerance_seconds: int) -> None:
    """Refuse a signed timestamp (``UNIX_SECONDS``) outside the tolerance, in either direction."""
    if abs(now - int(timestamp)) > tolerance_seconds:
        raise SignatureError("timestamp outside the allowed tolerance")
