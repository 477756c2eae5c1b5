from rest_framework.routers import DefaultRouter

from contacts.api import ContactViewSet, ErasureRecordViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("contacts", ContactViewSet, basename="contact")
router.register("erasures", ErasureRecordViewSet, basename="erasure")
urlpatterns = router.urls
