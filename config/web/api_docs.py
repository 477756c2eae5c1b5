"""The API's front door: a root that lists the endpoints, the schema readable in a browser, and docs that
load nothing from outside."""

import re

from django.urls import URLResolver, get_resolver
from django.utils.html import escape
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# ReDoc's bundle shows the Redocly logo from its CDN; the page's policy keeps that (and anything else)
# from leaving the server. Its inline start-up script and styles are ours.
REDOC_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def collection_routes() -> dict[str, str]:
    """{key: url name} of every collection the apps' routers serve under ``api/`` (``data-subject-requests`` →
    ``data_subject_requests``), read from the URL configuration so that a new endpoint is listed by itself."""
    found = {}
    for entry in get_resolver().url_patterns:
        if not (isinstance(entry, URLResolver) and str(entry.pattern) == "api/"):
            continue
        for route in entry.url_patterns:
            name = getattr(route, "name", None) or ""
            # The plain route, not its format-suffix twin (``contacts\.(?P<format>…)``).
            if name.endswith("-list") and (plain := re.fullmatch(r"\^?([a-z0-9-]+)/\$?", str(route.pattern))):
                found[plain[1].replace("-", "_")] = name
    return found


class ApiRootView(APIView):
    """Where each part of the API is: every collection, then the schema and its two readers."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        names = {**dict(sorted(collection_routes().items())), "schema": "api-schema", "docs": "api-docs",
                 "redoc": "api-redoc"}  # fmt: skip
        return Response({key: reverse(name, request=request) for key, name in names.items()})


class SchemaPageRenderer(OpenApiYamlRenderer):
    """The YAML schema as a page a browser shows (``application/vnd.oai.openapi`` it would download)."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        text = super().render(data, accepted_media_type, renderer_context).decode()
        page = (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>crm-sync API schema</title></head>'
            f"<body><pre>{escape(text)}</pre></body></html>"
        )
        return page.encode()


class SchemaView(SpectacularAPIView):
    """YAML and JSON by content negotiation, as before; a browser (asking for HTML) reads it on the page."""

    renderer_classes = [*SpectacularAPIView.renderer_classes, SchemaPageRenderer]


class RedocView(SpectacularRedocView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = REDOC_POLICY
        return response
