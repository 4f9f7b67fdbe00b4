from django.urls import path

from . import views

urlpatterns = [
    path("models/", views.ModelAliasListView.as_view()),
    path("model-health/", views.ModelHealthView.as_view()),
    path("models/<slug:alias>/", views.ModelAliasDetailView.as_view()),
]
