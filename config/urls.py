from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from config.ops.metrics_view import metrics_view
from config.web.api_docs import ApiRootView, RedocView, SchemaView
from config.web.health import healthz

urlpatterns = [
    # No public site: the root is the admin.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="root"),
    # Browsers ask for /favicon.ico on every page, the API's and its docs' included: the admin's icon.
    path("favicon.ico", RedirectView.as_view(url=static("crm/favicon.svg")), name="favicon"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("webhooks/", include("webhooks.urls")),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/", include("contacts.api_urls")),
    path("api/", include("webhooks.api_urls")),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
