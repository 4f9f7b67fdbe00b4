"""The worker's warm-up (providers/warm.py) leaves nothing of litellm's own for the first model call to load."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import ROOT

# Run in a fresh interpreter: this test process has long imported whatever litellm loads lazily.
FIRST_CALL = """
import asyncio, json, sys
from bench.fake_openai import start_in_thread
from backend.engine.ports import LLMRequest
from backend.providers.gateway import LiteLLMGateway
from backend.providers.routes import ModelRoute
from backend.providers.warm import load_models

server = start_in_thread()
load_models()
loaded = set(sys.modules)
route = ModelRoute(alias="r", model="openai/gpt-4o-mini", api_base=server.url, api_key="k")

async def resolve(alias):
    return route

result = asyncio.run(LiteLLMGateway(resolve).complete(LLMRequest("r", [{"role": "user", "content": "hi"}])))
server.stop()
print(json.dumps({"text": result.text, "new": sorted(set(sys.modules) - loaded)}))
"""


def test_the_first_whole_answer_after_the_warm_up_loads_no_provider_code() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "backend.config.settings",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run([sys.executable, "-c", FIRST_CALL], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["text"]
    # litellm's provider table, the self-hosted provider, its cost calculators: loaded by the warm-up. What is
    # left for the first call is litellm's service logger, which only an HTTP request to a model loads.
    assert [m for m in got["new"] if m.startswith(("litellm.llms.", "litellm.proxy.", "litellm.cost"))] == []
