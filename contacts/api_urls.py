from rest_framework.routers import DefaultRouter

from contacts.api import ContactViewSet, DataSubjectRequestViewSet, ErasureRecordViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("contacts", ContactViewSet, basename="contact")
router.register("erasures", ErasureRecordViewSet, basename="erasure")
router.register("data-subject-requests", DataSubjectRequestViewSet, basename="data-subject-request")
urlpatterns = router.urls
