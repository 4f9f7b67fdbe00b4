from django.urls import path

from . import members_views, retention_views, views

urlpatterns = [
    path("graphs/", views.GraphListView.as_view()),
    path("graphs/validate/", views.GraphValidateView.as_view()),
    path("graphs/<int:graph_id>/", views.GraphDetailView.as_view()),
    path("graphs/<int:graph_id>/versions/", views.GraphVersionListView.as_view()),
    path("graphs/<int:graph_id>/versions/<int:number>/", views.GraphVersionDetailView.as_view()),
    path("node-types/", views.NodeTypeListView.as_view()),
    path("prompts/", views.PromptListView.as_view()),
    path("prompts/<slug:name>/versions/", views.PromptVersionListView.as_view()),
    path("prompts/<slug:name>/labels/<slug:label>/", views.PromptLabelView.as_view()),
    path("workspaces/<int:workspace_id>/retention/", retention_views.WorkspaceRetentionView.as_view()),
    path("workspaces/<int:workspace_id>/members/", members_views.MemberListView.as_view()),
    path("workspaces/<int:workspace_id>/members/<int:user_id>/", members_views.MemberDetailView.as_view()),
]
