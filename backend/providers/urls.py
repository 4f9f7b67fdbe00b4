from django.urls import path

from . import views

urlpatterns = [path("models/", views.ModelAliasListView.as_view())]
