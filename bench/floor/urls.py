from django.urls import path

from bench.floor.views import receive

urlpatterns = [path("webhooks/<str:provider>/", receive)]
