"""Seed a private database for a fault test: ``python -m tests.faults.seed_private <fake model URL>``.

Run with DATABASE_URL (and REDIS_URL) pointing at the private services, after
``manage.py migrate``. Makes a user with an API token, a model alias ``slow``
served by ``bench/fake_openai.py``, a one-call graph, a published flow ``ask``,
a flow ``chat`` for the OpenAI routes (a text input, one streaming answer step),
an API key and one limited to ``LIMITED_PER_MINUTE`` calls a minute, and prints
what a test needs as one JSON line.
"""
from __future__ import annotations

import json
import sys
from typing import Any

ONE_CALL = {"schema": "patchbay.graph/v1", "name": "one-call",
            "nodes": [{"id": "in", "type": "input"},
                      {"id": "ask", "type": "llm", "config": {"model": "slow", "prompt": "Answer {{ input }}"}},
                      {"id": "out", "type": "output", "config": {"value": "{{ nodes.ask.output }}"}}],
            "edges": [{"from": "in", "to": "ask"}, {"from": "ask", "to": "out"}]}
CHAT = {**ONE_CALL, "name": "chat",
        "inputs": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        "nodes": [ONE_CALL["nodes"][0],
                  {"id": "ask", "type": "llm", "config": {"model": "slow", "stream": True,
                                                          "prompt": "Answer {{ input.text }}"}},
                  ONE_CALL["nodes"][2]]}
LIMITED_PER_MINUTE = 5


def seed(model_url: str) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from backend.endpoints.services import api_key_create, endpoint_create
    from backend.graphs.services import graph_create, workspace_for_user
    from backend.providers.models import ModelAlias

    user = get_user_model().objects.create_user("alice", password="alice-pass-123")
    workspace = workspace_for_user(user)
    ModelAlias.objects.create(alias="slow", model="openai/gpt-4o-mini", api_base=model_url, api_key_env="PATH",
                              max_retries=0, timeout_s=60)
    graph = graph_create(workspace=workspace, user=user, spec=ONE_CALL)
    endpoint = endpoint_create(user=user, graph=graph, slug="ask")
    endpoint_create(user=user, graph=graph_create(workspace=workspace, user=user, spec=CHAT), slug="chat")
    _, key = api_key_create(user=user, workspace=workspace, name="fault test", rate_limit_per_minute=None)
    _, limited = api_key_create(user=user, workspace=workspace, name="limited", rate_limit_per_minute=LIMITED_PER_MINUTE)
    return {"token": Token.objects.create(user=user).key, "graph": graph.pk, "slug": endpoint.slug, "key": key,
            "limited_key": limited}


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(seed(sys.argv[1])))
