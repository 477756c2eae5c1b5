from rest_framework.routers import DefaultRouter

from webhooks.api import WebhookEventViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("webhook-events", WebhookEventViewSet, basename="webhookevent")
urlpatterns = router.urls
