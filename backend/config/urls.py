from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.endpoints.urls import flow_urlpatterns, openai_urlpatterns

urlpatterns = [
    # Published flows first: they are the hot path, and matching them costs nothing when they lead.
    path("api/v1/", include(flow_urlpatterns)),
    path("v1/", include(openai_urlpatterns)),  # OpenAI-compatible: published flows as models (endpoints/openai_*)
    path("admin/", admin.site.urls),
    path("api/", include("backend.graphs.urls")),
    path("api/", include("backend.runs.urls")),
    path("api/", include("backend.providers.urls")),
    path("api/", include("backend.releases.urls")),
    path("api/", include("backend.endpoints.urls")),
    path("api/", include("backend.audit.urls")),
    path("api/", include("backend.insights.urls")),
    path("api/", include("backend.evals.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("backend.web.urls")),
]

# A database or Redis outage answers 503 JSON; other errors under /api/ answer JSON too (see config/unavailable.py).
handler500 = "backend.config.unavailable.server_error"
handler404 = "backend.config.errors.not_found"  # JSON under /api/ too, for paths no route (or converter) matches
