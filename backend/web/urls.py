from django.urls import path, re_path

from . import graph_actions, health, session, spa

urlpatterns = [
    path("api/health/", health.health),
    path("api/session/", session.SessionView.as_view()),
    path("api/session/login/", session.LoginView.as_view()),
    path("api/session/logout/", session.LogoutView.as_view()),
    path("api/graphs/<int:graph_id>/restore/", graph_actions.GraphRestoreView.as_view()),
    path("api/graphs/<int:graph_id>/duplicate/", graph_actions.GraphDuplicateView.as_view()),
    path("static/<path:path>", spa.asset),
    # Every other path that is not the API, the admin or a websocket is a canvas route.
    re_path(r"^(?!api/|admin/|static/|ws/)(?P<route>.*)$", spa.index),
]
