from django.urls import path

from bench.peer.views import receive

urlpatterns = [path("webhooks/<str:provider>/", receive)]
