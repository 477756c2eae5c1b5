"""The datetimes we store: aware, in UTC, and in years that both Python and PostgreSQL read back; and how
people see them: in ``TIME_ZONE``, one format with the zone shown, while the API keeps answering in UTC.

9999-12-31T23:59:59-10:00 overflows Python when converted to UTC, and a year past 9999 stored by
PostgreSQL cannot be read back into a Python datetime: one such value would break every read of its row.
"""

import logging
import time
from datetime import UTC, datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy

EARLIEST_YEAR, LATEST_YEAR = 1900, 9000


def storable_utc(value: datetime) -> datetime | None:
    """``value`` in UTC (a naive one is taken as UTC), or None when it cannot be stored and read back."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return None
    return value if EARLIEST_YEAR <= value.year <= LATEST_YEAR else None


def display_time(moment: datetime | None, *, empty: str = "—") -> str:
    """``moment`` as the admin shows every time: in ``TIME_ZONE``, ``DATETIME_FORMAT`` (config/formats/)."""
    if moment is None:
        return empty
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


# Months as a sentence names them: Portuguese writes them in lower case ("dezembro de 2026"), and Django's
# own month names are capitalized (they also head calendars).
MONTHS_IN_A_SENTENCE = [
    pgettext_lazy("month in a sentence", "January"),
    pgettext_lazy("month in a sentence", "February"),
    pgettext_lazy("month in a sentence", "March"),
    pgettext_lazy("month in a sentence", "April"),
    pgettext_lazy("month in a sentence", "May"),
    pgettext_lazy("month in a sentence", "June"),
    pgettext_lazy("month in a sentence", "July"),
    pgettext_lazy("month in a sentence", "August"),
    pgettext_lazy("month in a sentence", "September"),
    pgettext_lazy("month in a sentence", "October"),
    pgettext_lazy("month in a sentence", "November"),
    pgettext_lazy("month in a sentence", "December"),
]


def display_date(moment: datetime | None, *, empty: str = "—") -> str:
    """The local day of ``moment`` in ``DATE_FORMAT`` (dd/mm/aaaa in Portuguese)."""
    if moment is None:
        return empty
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def month_in_a_sentence(moment: datetime) -> str:
    """The local month of ``moment`` as a sentence says it: "December 2026", "dezembro de 2026"."""
    local = timezone.localtime(moment)
    return gettext("%(month)s %(year)d") % {"month": MONTHS_IN_A_SENTENCE[local.month - 1], "year": local.year}


def time_ago(moment: datetime) -> str:
    """How long ago ``moment`` was, as people say it ("now", "3 minutes ago", "há 3 minutos")."""
    return naturaltime(moment)


def zone_label() -> str:
    """The zone times are shown in, with its offset now: "America/Sao_Paulo (UTC-03:00)"."""
    now = timezone.localtime()
    offset = now.strftime("%z")
    return f"{timezone.get_current_timezone_name()} (UTC{offset[:3]}:{offset[3:]})"


def time_zone_context(request) -> dict:
    """Template context processor: ``time_zone_label`` for the admin's header and the dashboard."""
    return {"time_zone_label": zone_label()}


API_PATH_PREFIX = "/api/"


class ApiInUtcMiddleware:
    """Times in API responses (and naive times in its filters) stay UTC whatever ``TIME_ZONE`` is: DRF and
    django-filter convert through the current time zone, which is UTC for the length of an API request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PATH_PREFIX):
            return self.get_response(request)
        with timezone.override(UTC):
            return self.get_response(request)


class UtcLogFormatter(logging.Formatter):
    """Log times in UTC, marked ``Z``: servers' logs are compared across machines and with the API's times."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"
