"""Machine-to-machine endpoints (the webhook receivers) skip the browser's middleware.

A webhook POST carries no cookie, no session, no user, no CSRF token and reads no language: sessions,
locale, CSRF, authentication, two-factor, messages and django-axes only cost it time (docs/performance.md
says how much). A view marked ``@bare`` is called by ``BareViewMiddleware``,
which sits right after the request id and the security middleware: its answers still carry the request
id (as do its log lines), HSTS and nosniff, an exception in it becomes the answer Django's handler would
give, and every other request goes through the whole stack as before.
"""

import functools

from django.core.handlers.exception import convert_exception_to_response
from django.urls import Resolver404, resolve
from django.utils import translation


def bare(view):
    """Mark ``view`` as needing none of the middleware after ``BareViewMiddleware`` (it must then also
    need no CSRF protection: keep it ``csrf_exempt`` too, for the day it runs behind the whole stack)."""

    @functools.wraps(view)
    def bare_view(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    bare_view.bare = True  # on a wrapper, as csrf_exempt does: the view itself may be routed plainly too
    return bare_view


class BareViewMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Exceptions become answers as under the whole stack (a 404 page, a logged 500).
        self.call_bare_view = convert_exception_to_response(self.call_view)

    def __call__(self, request):
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if not getattr(match.func, "bare", False):
            return self.get_response(request)
        request.resolver_match = match
        return self.call_bare_view(request)

    def call_view(self, request):
        # A thread keeps the language its last request activated (LocaleMiddleware does not reset it):
        # a bare view answers in the default one, whichever request the thread served before.
        translation.deactivate()
        match = request.resolver_match
        response = match.func(request, *match.args, **match.kwargs)
        if not response.streaming and not response.has_header("Content-Length"):
            # What CommonMiddleware adds: the server need not fall back to chunked encoding.
            response.headers["Content-Length"] = str(len(response.content))
        return response
