from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("backend.graphs.urls")),
    path("api/", include("backend.runs.urls")),
    path("api/", include("backend.providers.urls")),
    path("", include("backend.graphs.page_urls")),
]
