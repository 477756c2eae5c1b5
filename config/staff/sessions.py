"""Session hygiene: sessions end after ADMIN_SESSION_IDLE_MINUTES without a request, and an administrator
can end every session of a user ("log out everywhere").

The session (its cookie and its database row) lives ``SESSION_COOKIE_AGE`` = the idle time past its last
save; a request pushes that forward by saving the session, at most once a minute (not a write per request).
The middleware also checks the last request's time itself, so an idle session ends even where a cookie or
a row outlived it.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.models import Session
from django.utils import timezone

LAST_REQUEST_KEY = "crm_last_request_at"
REFRESH_EVERY_SECONDS = 60


class IdleSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            now = int(time.time())
            last = session.get(LAST_REQUEST_KEY)
            if last is not None and now - last > settings.ADMIN_SESSION_IDLE_MINUTES * 60:
                logout(request)  # the admin then asks for the password (and the second factor) again
            elif last is None or now - last >= REFRESH_EVERY_SECONDS:
                session[LAST_REQUEST_KEY] = now  # saving the session also pushes its expiry forward
        return self.get_response(request)


def stamp_login(sender, request, user, **kwargs):
    """``user_logged_in`` receiver: a fresh login counts as the last request (the next one writes nothing)."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_REQUEST_KEY] = int(time.time())


def end_all_sessions(user) -> int:
    """Delete every live session of ``user``; returns how many. Django keeps no index of sessions by user, so
    each live session is decoded: the table stays small, as sessions expire after the idle time (run
    ``manage.py clearsessions`` daily to drop expired rows)."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)
