from django.urls import path

from . import approval_views, otlp_views, spend_views, views

urlpatterns = [
    path("runs/", views.RunListView.as_view()),
    path("runs/<str:run_id>/", views.RunDetailView.as_view()),
    path("runs/<str:run_id>/cancel/", views.RunCancelView.as_view()),
    path("runs/<str:run_id>/events/", views.RunEventListView.as_view()),
    path("runs/<str:run_id>/replay/", views.RunReplayView.as_view()),
    path("runs/<str:run_id>/compare/<str:other_id>/", views.RunCompareView.as_view()),
    path("workspaces/<int:workspace_id>/spend/", spend_views.WorkspaceSpendView.as_view()),
    path("runs/<str:run_id>/otlp", otlp_views.RunOtlpView.as_view()),
    path("approvals/", approval_views.InboxView.as_view()),
    path("approvals/<int:approval_id>/", approval_views.ApprovalDetailView.as_view()),
    path("approvals/<int:approval_id>/decide/", approval_views.ApprovalDecideView.as_view()),
    path("approvals/<int:approval_id>/link/", approval_views.ApprovalLinkView.as_view()),
    path("approval-links/<str:token>/", approval_views.SignedLinkView.as_view()),
    path("schemas/span.json", views.SpanSchemaView.as_view()),
    path("schemas/events.json", views.EventsSchemaView.as_view()),
]
