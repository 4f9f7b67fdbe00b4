"""The data migration: endpoints that existed before releases serve a release of the version they served."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from backend.endpoints.models import Endpoint, EndpointRelease
from backend.releases.models import LabelMove, Release, ReleaseLabel
from backend.releases.selectors import serving_release

BEFORE = [("endpoints", "0005_endpoint_follows_release_label")]
AFTER = [("endpoints", "0006_endpoints_serve_releases")]


def _old_world(apps: Any) -> None:
    """A graph with two versions (both follow tone@production) and three endpoints: two on v2, one on v1."""
    workspace = apps.get_model("graphs", "Workspace").objects.create(name="old")
    graph = apps.get_model("graphs", "Graph").objects.create(workspace=workspace, name="toned")
    prompt = apps.get_model("graphs", "Prompt").objects.create(workspace=workspace, name="tone")
    versions = apps.get_model("graphs", "PromptVersion")
    one = versions.objects.create(prompt=prompt, number=1, template="ONE", content_hash="1")
    versions.objects.create(prompt=prompt, number=2, template="TWO", content_hash="2")
    apps.get_model("graphs", "PromptLabel").objects.create(prompt=prompt, name="production", version=one)
    spec = {"nodes": [{"id": "a", "type": "llm", "config": {"prompt_ref": "tone@production"}}]}
    made = {n: apps.get_model("graphs", "GraphVersion").objects.create(graph=graph, number=n, spec=spec,
                                                                       content_hash=str(n)) for n in (1, 2)}
    endpoints = apps.get_model("endpoints", "Endpoint")
    now = timezone.now()
    for slug, number, age in (("main", 2, 0), ("twin", 2, 5), ("old", 1, 10)):
        endpoint = endpoints.objects.create(workspace=workspace, graph=graph, slug=slug, version=made[number],
                                            enabled=True, signing_secret="s")
        endpoints.objects.filter(pk=endpoint.pk).update(updated_at=now - dt.timedelta(minutes=age))
        apps.get_model("endpoints", "EndpointRelease").objects.create(endpoint=endpoint, action="published",
                                                                      version=made[number])


def test_existing_endpoints_keep_serving_what_they_served(transactional_db) -> None:  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        _old_world(executor.loader.project_state(BEFORE).apps)
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)

        labels = dict(Endpoint.objects.values_list("slug", "label"))
        assert labels == {"main": "production", "twin": "production", "old": "endpoint-old"}
        releases = {r.version.number: r for r in Release.objects.select_related("version")}
        assert sorted(releases) == [1, 2] and {r.reason for r in releases.values()} == {"migrated"}
        assert releases[2].prompts == {"tone@production": "tone@1"}, "pinned to what the label said at migration"
        assert dict(ReleaseLabel.objects.values_list("name", "release__version__number")) == {
            "production": 2, "endpoint-old": 1}
        assert LabelMove.objects.filter(reason="migrated").count() == 2
        for endpoint in Endpoint.objects.all():
            served = serving_release(endpoint)
            assert served is not None and served.version_id == endpoint.version_id
            assert EndpointRelease.objects.get(endpoint=endpoint).release == served
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
