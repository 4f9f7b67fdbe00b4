from django.urls import path

from .consumers import EvalProgressConsumer

websocket_urlpatterns = [path("ws/evals/<str:eval_id>/", EvalProgressConsumer.as_asgi())]
