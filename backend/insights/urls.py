from django.urls import path

from . import views

urlpatterns = [
    path("runs/<str:run_id>/labels/", views.RunLabelsView.as_view()),
    path("graphs/<int:graph_id>/insights/", views.GraphInsightsView.as_view()),
    path("graphs/<int:graph_id>/projections/", views.GraphProjectionsView.as_view()),
    path("projections/<int:projection_id>/", views.ProjectionDetailView.as_view()),
]
