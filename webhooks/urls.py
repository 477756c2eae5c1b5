from django.urls import path

from config.web.bare_views import bare
from webhooks.views import WebhookView

app_name = "webhooks"
urlpatterns = [
    path("<str:provider_name>/", bare(WebhookView.as_view()), name="receive"),
]
