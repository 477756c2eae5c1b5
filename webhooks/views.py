"""``POST /webhooks/<provider>/``: size limit → signature on the raw bytes → envelope → allow-list →
stored → 200. Every refusal is a JSON error; nothing refused is stored, nothing accepted is lost."""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from config.ops import log_context
from config.ops.failures import describe_failure
from config.ops.metrics import record_delivery
from config.web.client_address import client_address
from webhooks.ingest import store_delivery
from webhooks.models import RejectedDelivery
from webhooks.providers import UnknownProvider, get_provider
from webhooks.providers.fields import EnvelopeError
from webhooks.providers.signing import SignatureError

logger = logging.getLogger(__name__)

# Headers worth keeping for diagnosis; signatures, credentials and cookies never are.
COMMON_STORED_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Request-Id")


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    http_method_names = ["post"]

    def http_method_not_allowed(self, request, *args, **kwargs):
        return JsonResponse({"error": "only POST is accepted"}, status=405, headers={"Allow": "POST"})

    def post(self, request, provider_name: str):
        try:
            provider = get_provider(provider_name)
        except UnknownProvider:
            raise Http404("unknown provider") from None
        log_context.bind(provider=provider.name)
        if not provider.configured:
            record_delivery(provider.name, "unavailable")
            return error(503, f"{provider.verbose_name} webhooks are not configured on this server")

        remote_addr = client_address(request)
        try:
            body = read_body(request, limit=settings.WEBHOOK_MAX_BODY_BYTES)
        except BodyRefused as exc:
            logger.warning("%s delivery refused (%s): %s", provider.name, exc.status, exc)
            record_delivery(provider.name, "too_large" if exc.status == 413 else "invalid")
            return error(exc.status, str(exc))

        try:
            signature_form = provider.verify(headers=request.headers, body=body, now=time.time())
        except SignatureError as exc:
            count_rejection(provider.name, str(exc), remote_addr)
            record_delivery(provider.name, "rejected_signature")
            return error(401, str(exc))

        try:
            delivery = provider.parse(body)
        except EnvelopeError as exc:
            # Signed by the provider but unusable: said loudly, since they will retry it in vain.
            logger.warning("%s delivery refused (400): %s", provider.name, exc)
            record_delivery(provider.name, "invalid")
            return error(400, str(exc))

        if not provider.account_allowed(delivery.account_id):
            count_rejection(provider.name, "account not allowed", remote_addr)
            record_delivery(provider.name, "rejected_account")
            return error(403, f"account {delivery.account_id} is not allowed on this endpoint")

        try:
            stored = store_delivery(
                provider=provider,
                delivery=delivery,
                body=body,
                headers=stored_headers(request, provider.stored_headers),
                signature_form=signature_form,
                remote_addr=remote_addr,
            )
        except DatabaseError as exc:
            # Never 2xx unless stored: the provider's retry will bring it back. The error by class and place
            # only: a database error's detail can quote the row it refused, payload included.
            logger.error("could not store a %s delivery: %s", provider.name, describe_failure(exc))
            record_delivery(provider.name, "unavailable")
            return error(503, "the event could not be stored; retry later")

        status = "duplicate" if stored.duplicate else "accepted"
        record_delivery(provider.name, status)
        return JsonResponse({"status": status, "event": stored.event_pk})


class BodyRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# Small enough that a read never holds much more than the limit in flight, large enough to be few reads.
READ_SIZE = 64 * 1024


def read_body(request, *, limit: int) -> bytes:
    """The raw body, whole, or ``BodyRefused``: 413 past ``limit`` (never reading more than limit + 1
    bytes), 400 when it is cut short or unreadable, 408 when the client stops sending, 411 when it is
    chunked and the server cannot say where it ends.

    With ``Content-Length`` Django's stream stops at the declared length. A chunked body has none, and
    Django then reads nothing; the server decodes the chunks, and a server that delivers the body's true
    end says so with ``wsgi.input_terminated`` (gunicorn does), so the input is read to its end."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if declared:
        try:
            declared_length = int(declared)
        except ValueError:
            raise BodyRefused(400, "invalid Content-Length") from None
        if declared_length < 0:
            raise BodyRefused(400, "invalid Content-Length")
        if declared_length > limit:
            # Refused from the header alone: the body is never read.
            raise BodyRefused(413, f"body larger than {limit} bytes")
        stream = request
    elif chunked:
        if not request.environ.get("wsgi.input_terminated"):
            raise BodyRefused(411, "a chunked body cannot be read by this server; send Content-Length")
        stream = request.environ["wsgi.input"]
    else:
        return b""
    try:
        body = read_at_most(stream, limit + 1)
    except Exception as exc:
        # Django wraps a socket error (a read timeout included) in UnreadablePostError; the server's own
        # errors for a body it could not decode (broken chunk framing) share no class. None is the sender's data.
        if isinstance(exc, TimeoutError) or isinstance(exc.__cause__, TimeoutError):
            raise BodyRefused(408, "the body stopped arriving; send it again") from None
        raise BodyRefused(400, f"the body could not be read ({type(exc).__name__})") from None
    if len(body) > limit:
        raise BodyRefused(413, f"body larger than {limit} bytes")
    if declared and len(body) < declared_length:
        raise BodyRefused(400, "body shorter than its Content-Length")
    return body


def read_at_most(stream, size: int) -> bytes:
    """Up to ``size`` bytes, in as many reads as the stream needs (one read may return fewer)."""
    parts, remaining = [], size
    while remaining > 0:
        part = stream.read(min(remaining, READ_SIZE))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def stored_headers(request, extra: tuple[str, ...]) -> dict[str, str]:
    names = COMMON_STORED_HEADERS + extra
    # Kept for diagnosis only: a NUL, which PostgreSQL's jsonb refuses, must not cost the delivery.
    return {name: request.headers[name].replace("\x00", "") for name in names if name in request.headers}


def count_rejection(provider: str, reason: str, remote_addr: str | None) -> None:
    """Count a refused request per provider, reason and hour; log it without its body."""
    logger.warning("%s delivery rejected from %s: %s", provider, remote_addr, reason)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    reason = reason[:100]
    try:
        updated = RejectedDelivery.objects.filter(provider=provider, reason=reason, hour=hour).update(
            count=F("count") + 1, last_remote_addr=remote_addr
        )
        if not updated:
            try:
                with transaction.atomic():
                    RejectedDelivery.objects.create(
                        provider=provider, reason=reason, hour=hour, count=1, last_remote_addr=remote_addr
                    )
            except IntegrityError:
                RejectedDelivery.objects.filter(provider=provider, reason=reason, hour=hour).update(
                    count=F("count") + 1
                )
    except DatabaseError as exc:
        logger.error("could not count a rejected %s delivery: %s", provider, describe_failure(exc))
