"""A run and its call record stored in one statement are the rows ``Model.save`` would have stored."""
from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.config.one_statement import insert_in_one_statement
from backend.endpoints.models import EndpointCall
from backend.runs.models import Run

from ..endpoints.conftest import create_graph, make_key, publish, tagged_spec

pytestmark = pytest.mark.django_db


def test_a_run_and_its_call_record_in_one_statement(alice_api) -> None:  # type: ignore[no-untyped-def]
    from backend.endpoints.models import ApiKey, Endpoint

    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    key = ApiKey.objects.get(pk=make_key(alice_api)["id"])
    endpoint = Endpoint.objects.select_related("graph__workspace", "version").get(slug="ask")
    run = Run(workspace=endpoint.workspace, graph=endpoint.graph, graph_version=endpoint.version,
              input={"text": "hi \u00e9"}, trace_id=uuid.uuid4().hex, source="endpoint")
    call = EndpointCall(endpoint=endpoint, run=run, api_key=key, request_id="req-1")

    with CaptureQueriesContext(connection) as queries:
        insert_in_one_statement(run, call)

    assert len(queries) == 1 and queries[0]["sql"].startswith("WITH r0 AS (INSERT INTO")
    assert call.pk is not None and not run._state.adding and not call._state.adding
    stored = Run.objects.get(pk=run.pk)
    assert (stored.input, stored.status, stored.budget, stored.created_at, stored.fresh) == \
        ({"text": "hi \u00e9"}, "queued", {}, run.created_at, False)
    assert EndpointCall.objects.get(pk=call.pk).run_id == run.pk and run.endpoint_call is call
