"""One try of one message: signed as Standard Webhooks, posted over a pooled connection to a checked address.

Connections are pooled per checked address (urllib3's ``PoolManager`` is shared by the delivering
threads); TLS still verifies the URL's own name (``server_hostname``, ``assert_hostname``). Redirects are
not followed and nothing is retried here: the queue decides when the next try is. The receiver's answer is
read (so the connection can be reused) and dropped: only its status code and the time are kept.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import urllib3
from standardwebhooks import Webhook

from webhooks.outbound.addresses import DEFAULT_PORTS, RefusedAddress, resolve_target

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 15.0
# Longest a try can take: what a claimed message's lease is counted in.
TRY_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
# A receiver's answer is read up to this much (to reuse the connection), then the connection is dropped.
ANSWER_READ_LIMIT = 64 * 1024
USER_AGENT = "crm-sync-outbound/1"

_pools = urllib3.PoolManager(num_pools=64, maxsize=4, block=False, retries=False)


@dataclass(frozen=True)
class TryResult:
    status_code: int | None  # the receiver's, when it answered
    error: str  # why there was no 2xx: a fixed label, never a message (which could quote anything)
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)


def signed_headers(*, message_id: str, body: str, secrets: list[str], at: datetime | None = None) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (one ``v1,…`` per secret, space-separated)."""
    at = at or datetime.now(UTC)
    signatures = " ".join(_signer(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def post_message(*, url: str, message_id: str, body: str, secrets: list[str]) -> TryResult:
    started = time.monotonic()

    def result(status_code: int | None, error: str = "") -> TryResult:
        return TryResult(status_code, error, int((time.monotonic() - started) * 1000))

    try:
        target = resolve_target(url)
    except RefusedAddress:
        return result(None, "refused_address")
    pool_kwargs = {"server_hostname": target.host, "assert_hostname": target.host} if target.scheme == "https" else {}
    pool = _pools.connection_from_host(target.address, target.port, target.scheme, pool_kwargs=pool_kwargs)
    host = f"[{target.host}]" if ":" in target.host else target.host
    headers = {
        **signed_headers(message_id=message_id, body=body, secrets=secrets),
        "Host": host if target.port == DEFAULT_PORTS[target.scheme] else f"{host}:{target.port}",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        answer = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers=headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
            preload_content=False,
        )
    except urllib3.exceptions.NewConnectionError:  # refused, unreachable (a subclass of the connect timeout)
        return result(None, "connection_error")
    except urllib3.exceptions.TimeoutError:
        return result(None, "timeout")
    except urllib3.exceptions.SSLError:
        return result(None, "tls_error")
    except (urllib3.exceptions.HTTPError, OSError):
        return result(None, "connection_error")
    try:
        _drop_answer(answer)
    except urllib3.exceptions.TimeoutError:
        return result(answer.status, "timeout")
    except (urllib3.exceptions.HTTPError, OSError):
        pass  # the status line arrived: that is the answer; the body is never kept anyway
    return result(answer.status, "" if 200 <= answer.status < 300 else "http_status")


def _drop_answer(answer) -> None:
    """Read the answer's body up to the limit and give the connection back; past it, close the connection."""
    read = 0
    for chunk in answer.stream(8192):
        read += len(chunk)
        if read > ANSWER_READ_LIMIT:
            answer.close()
            return
    answer.release_conn()
