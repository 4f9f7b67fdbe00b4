from django.urls import path

from . import views

urlpatterns = [
    path("workspaces/<int:workspace_id>/audit/", views.WorkspaceAuditView.as_view()),
    path("audit/", views.DeploymentAuditView.as_view()),
]
