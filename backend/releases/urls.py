from django.urls import path

from . import views

urlpatterns = [
    path("graphs/<int:graph_id>/releases/", views.ReleaseListView.as_view()),
    path("graphs/<int:graph_id>/releases/diff/", views.ReleaseDiffView.as_view()),
    path("graphs/<int:graph_id>/releases/<int:number>/", views.ReleaseDetailView.as_view()),
    path("graphs/<int:graph_id>/labels/<slug:label>/", views.LabelView.as_view()),
]
