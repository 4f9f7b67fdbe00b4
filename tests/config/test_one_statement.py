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


def test_the_insert_is_compiled_once_and_later_rows_store_their_own_values(alice_api) -> None:  # type: ignore[no-untyped-def]
    from django.db.models import Value
    from django.db.models.functions import Lower

    from backend.config import one_statement
    from backend.endpoints.models import ApiKey, Endpoint

    publish(alice_api, create_graph(alice_api, tagged_spec("one")), "ask")
    key = ApiKey.objects.get(pk=make_key(alice_api)["id"])
    endpoint = Endpoint.objects.select_related("graph__workspace", "version").get(slug="ask")
    one_statement._compiled.clear()

    def stored(text: str, trace_id: object) -> tuple[Run, EndpointCall]:
        run = Run(workspace=endpoint.workspace, graph=endpoint.graph, graph_version=endpoint.version,
                  input={"text": text, "n": [1, 2.5, None]}, budget={"max_llm_calls": 3}, trace_id=trace_id,
                  source="endpoint", fresh=True)
        call = EndpointCall(endpoint=endpoint, run=run, api_key=key, request_id=f"req-{text}")
        insert_in_one_statement(run, call)
        return run, call

    first = stored("first", "a" * 32)
    assert len(one_statement._compiled) == 2, "the run's INSERT and the call record's, kept"
    compiled = dict(one_statement._compiled)
    second = stored("second \u00e9", "b" * 32)
    assert one_statement._compiled == compiled, "reused, not compiled again"
    third = stored("third", Lower(Value("C" * 32)))  # an expression: compiled for this row, not kept
    assert one_statement._compiled == compiled

    for text, trace_id, (run, call) in [("first", "a" * 32, first), ("second \u00e9", "b" * 32, second),
                                         ("third", "c" * 32, third)]:
        row = Run.objects.get(pk=run.pk)
        assert (row.input, row.budget, row.trace_id, row.fresh, row.source, row.created_at is not None) == \
            ({"text": text, "n": [1, 2.5, None]}, {"max_llm_calls": 3}, trace_id, True, "endpoint", True)
        record = EndpointCall.objects.get(pk=call.pk)
        assert (record.run_id, record.request_id, record.api_key_id) == (run.pk, f"req-{text}", key.pk)
    assert Run.objects.get(pk=second[0].pk).created_at == second[0].created_at, "auto_now_add as Model.save sets it"
