from django.urls import path

from webhooks.views import WebhookView

app_name = "webhooks"
urlpatterns = [
    path("<str:provider_name>/", WebhookView.as_view(), name="receive"),
]
