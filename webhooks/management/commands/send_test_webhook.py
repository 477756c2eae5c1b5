from django.core.management.base import BaseCommand, CommandError

from webhooks.providers import UnknownProvider, provider_names
from webhooks.samples import NotTLS, Redirected, post, signed_sample


class Command(BaseCommand):
    help = "Sign a realistic sample event with the configured secret and POST it to a running server."

    def add_arguments(self, parser):
        parser.add_argument("provider", help=f"one of: {', '.join(provider_names())}")
        parser.add_argument("event_type", help="a sample name, e.g. contact.created")
        parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/webhooks/timely/")
        parser.add_argument(
            "--same-id", action="store_true", help="send the fixture's own event id (to see duplicate handling)"
        )

    def handle(self, *args, provider, event_type, url, same_id, **options):
        try:
            body, headers = signed_sample(provider, event_type, fresh=not same_id)
        except (LookupError, UnknownProvider) as exc:
            raise CommandError(str(exc)) from None
        try:
            status, answer = post(url, body, headers)
        except Redirected as redirect:
            raise CommandError(redirect_explained(url, redirect)) from None
        except NotTLS:
            raise CommandError(
                f"{url} answered in plain HTTP, not TLS: this address serves http://, not https:// (gunicorn and "
                "runserver speak plain HTTP; TLS ends at the reverse proxy). Use the proxy's https:// address, or "
                "http:// here."
            ) from None
        except OSError as exc:
            raise CommandError(f"could not reach {url}: {exc}") from None
        self.stdout.write(f"{status} {answer}")
        if status >= 300:
            raise CommandError(f"the server answered {status}")


def redirect_explained(url: str, redirect: Redirected) -> str:
    if url.startswith("http://") and redirect.location.startswith("https://"):
        return (
            f"the server redirected to HTTPS ({redirect.location}): production settings send every plain-HTTP "
            "request there (SECURE_SSL_REDIRECT), and a webhook is never re-sent after a redirect. Send to the "
            "https:// address of the reverse proxy that ends TLS; to try a server without TLS locally, start it "
            "with SECURE_SSL_REDIRECT=false (or the local settings)."
        )
    return (
        f"the server answered {redirect.status}, a redirect to {redirect.location or 'nowhere'}: a webhook is never "
        "re-sent after a redirect; send it to the address the endpoint answers at (…/webhooks/<provider>/, with "
        "the trailing slash)."
    )
