"""Project-wide REST framework policy: who may read, how fast, and how pages are cut."""

import base64
import binascii
import json
from collections import OrderedDict
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django_filters import CharFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.utils.urls import replace_query_param

from config.answer_reads import page_of_rows
from config.erased_ids import id_forms
from config.query_values import query_value_problem
from config.two_factor import needs_second_factor


class StoredIdFilter(CharFilter):
    """An exact filter on a column holding ids, which finds an id not in plain form (an email address
    as a contact id) by the keyed digest it is stored as (``config.erased_ids``)."""

    def filter(self, qs, value):
        if not value:
            return qs
        return self.get_method(qs)(**{f"{self.field_name}__in": id_forms(value)})


class VerifiedSessionAuthentication(SessionAuthentication):
    """The admin's session, on the API's terms: a staff session still waiting for its second factor does not
    authenticate (else a password alone would read through the API what the admin keeps behind 2FA)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and needs_second_factor(result[0]):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """Documents it in the OpenAPI schema as the session cookie it is."""

    target_class = "config.api.VerifiedSessionAuthentication"


class ModelViewPermission(DjangoModelPermissions):
    """Reading needs the model's ``view`` permission (DRF's default lets any logged-in user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class PerUserThrottle(UserRateThrottle):
    """One budget per user (per address before login), read from ``API_THROTTLE_RATE`` on every request so
    the rate follows the settings; an empty rate turns throttling off."""

    def get_rate(self):
        return settings.API_THROTTLE_RATE or None


class ValidatedFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing with 400 (the filter named) a value its form accepts but the
    database cannot take: a NUL, a ``+16:00`` offset, a time that leaves years 1–9999 in UTC. Every
    filterset is checked here, declared or generated from ``filterset_fields``."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None and filterset.is_valid():
            for name, value in list(filterset.form.cleaned_data.items()):
                if (problem := query_value_problem(value)) is not None:
                    filterset.form.add_error(name, f"This value {problem}.")
        return filterset


def invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": ["Invalid cursor."]})


class IdCursorPagination(CursorPagination):
    """Cursor pages over the primary key: stable while rows are added, never skipping or repeating one."""

    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        # DRF reads one row more than the page: the access trail must not name it (it is not shown).
        return page_of_rows(lambda: super(IdCursorPagination, self).paginate_queryset(queryset, request, view))

    def decode_cursor(self, request):
        """DRF's cursor, whose position (an id, as text) must also be one the database can compare."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid_cursor() from None
        if cursor is None or cursor.position is None:
            return cursor
        try:
            position = int(cursor.position)
        except ValueError:
            raise invalid_cursor() from None
        if query_value_problem(position) is not None:
            raise invalid_cursor()
        return cursor


class UpdatedAtCursorPagination(BasePagination):
    """Keyset pages in ``(updated_at, id)`` order, for incremental sync.

    The cursor is the ``(updated_at, id)`` of the last row served, and the next page holds the rows
    strictly after it. Unlike an offset (DRF's cursor counts rows sharing a timestamp), nothing that
    changes between two requests can shift the window: a row updated meanwhile moves past the cursor
    and is served again, later, with its new state; a row that did not change is served exactly once.
    """

    ordering = ("updated_at", "id")
    cursor_query_param = "cursor"
    cursor_query_description = "The pagination cursor value (from `next` or `previous`)."
    page_size_query_param = "page_size"
    page_size_query_description = "Number of results to return per page (at most 1000)."
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        cursor = self.decode_cursor(request)
        field, tiebreak = self.ordering
        if cursor is None:
            self.backwards, position = False, None
            rows = queryset.order_by(field, tiebreak)
        else:
            self.backwards, position = cursor
            value, pk = position
            if self.backwards:
                # `field <= value AND (field < value OR pk < k)`: the leading bound lets the (field, pk) index
                # scan from the cursor and stop at the page's end.
                before = Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(**{f"{tiebreak}__lt": pk}))
                rows = queryset.filter(before).order_by(f"-{field}", f"-{tiebreak}")
            else:
                after = Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(**{f"{tiebreak}__gt": pk}))
                rows = queryset.filter(after).order_by(field, tiebreak)
        read = []

        def read_page():
            read.extend(rows[: self.page_size + 1])  # one more: whether another page follows
            return read[: self.page_size]

        page = page_of_rows(read_page)
        has_more = len(read) > self.page_size
        if self.backwards:
            page.reverse()
        # Coming from a cursor means there are rows on the side we came from.
        self.has_next = (not self.backwards and has_more) or (self.backwards and position is not None)
        self.has_previous = (self.backwards and has_more) or (not self.backwards and position is not None)
        self.page = page
        self.position = position
        return page

    def get_page_size(self, request):
        default = settings.REST_FRAMEWORK.get("PAGE_SIZE") or 100
        try:
            requested = int(request.query_params.get(self.page_size_query_param, default))
        except (TypeError, ValueError):
            return default
        return max(1, min(requested, self.max_page_size)) if requested > 0 else default

    def encode_cursor(self, *, backwards: bool, value: datetime, pk: int) -> str:
        token = {"b": backwards, "v": value.isoformat(), "k": pk}
        encoded = base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode()
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def decode_cursor(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            token = json.loads(base64.urlsafe_b64decode(raw.encode()))
            value = parse_datetime(token["v"])
            pk = int(token["k"])
            backwards = bool(token["b"])
        except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
            raise invalid_cursor() from None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise invalid_cursor()
        if query_value_problem(value) is not None or query_value_problem(pk) is not None:
            raise invalid_cursor()
        return backwards, (value, pk)

    def _edge_cursor(self, *, backwards: bool) -> str | None:
        field, tiebreak = self.ordering
        if self.page:
            row = self.page[0 if backwards else -1]
            return self.encode_cursor(backwards=backwards, value=getattr(row, field), pk=getattr(row, tiebreak))
        if self.position is None:
            return None
        # An empty page still has a place in the sequence: the cursor it was asked with.
        value, pk = self.position
        return self.encode_cursor(backwards=backwards, value=value, pk=pk)

    def get_next_link(self):
        return self._edge_cursor(backwards=False) if self.has_next else None

    def get_previous_link(self):
        return self._edge_cursor(backwards=True) if self.has_previous else None

    def get_paginated_response(self, data):
        return Response(
            OrderedDict([("next", self.get_next_link()), ("previous", self.get_previous_link()), ("results", data)])
        )

    def get_paginated_response_schema(self, schema):
        return CursorPagination().get_paginated_response_schema(schema)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": self.cursor_query_description,
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": self.page_size_query_description,
                "schema": {"type": "integer"},
            },
        ]
