"""Static files (admin CSS, the API docs' Swagger UI) are served by the app itself through WhiteNoise."""

import pytest
from django.test import Client

SWAGGER_BUNDLE = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"


@pytest.mark.parametrize("path", [SWAGGER_BUNDLE, "/static/crm/admin.css", "/static/admin/css/base.css"])
def test_static_files_are_served_without_debug(settings, path):
    # Production serves what collectstatic gathered; finders stand in for STATIC_ROOT here.
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get(path)

    assert settings.DEBUG is False
    assert response.status_code == 200
    assert b"".join(response.streaming_content)
