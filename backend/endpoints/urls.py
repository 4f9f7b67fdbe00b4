"""Routes under /api/: the management API (members) and /api/v1/ (API keys)."""
from __future__ import annotations

from django.urls import path, re_path

from . import flow_views, openai_views, views

urlpatterns = [
    path("endpoints/", views.EndpointListView.as_view()),
    path("endpoints/<slug:slug>/", views.EndpointDetailView.as_view()),
    path("endpoints/<slug:slug>/publish/", views.EndpointPublishView.as_view()),
    path("endpoints/<slug:slug>/rollback/", views.EndpointRollbackView.as_view()),
    path("endpoints/<slug:slug>/unpublish/", views.EndpointUnpublishView.as_view()),
    path("api-keys/", views.ApiKeyListView.as_view()),
    path("api-keys/<int:key_id>/", views.ApiKeyDetailView.as_view()),
    path("api-keys/<int:key_id>/revoke/", views.ApiKeyRevokeView.as_view()),
]

# The callers' routes, mounted at /api/v1/ first of all (config/urls.py): a flow call is matched before Django
# tries every other app's routes (each miss costs a Resolver404 and its list of tried patterns).
flow_urlpatterns = [
    path("flows/<slug:slug>/run", flow_views.flow_run),
    path("flows/<slug:slug>/openapi.json", views.FlowOpenApiView.as_view()),
    path("runs/<str:run_id>", flow_views.run_status),
    path("runs/<str:run_id>/events", flow_views.run_events),
]

# The OpenAI-compatible routes, mounted at /v1/ (config/urls.py): OpenAI clients take base_url=http://host/v1.
openai_urlpatterns = [
    path("chat/completions", openai_views.chat_completions),
    path("responses", openai_views.responses),
    path("models", openai_views.models),
    path("models/<str:model_id>", openai_views.models),
    re_path(r"^(?P<rest>.*)$", openai_views.unknown_route),
]
