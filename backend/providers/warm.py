"""Load, before the first model call, what the first model call would otherwise load: litellm (with its price map
and tokenizers, gateway.litellm_module), the OpenAI SDK's resource classes, which the SDK imports only when a
client first touches ``.chat`` (~0.7 s of imports that made the first run after a start that much slower), and
what litellm loads on its own first call.

Called from a worker's background warm-up (backend/runs/worker_start.py); nothing here calls a model or the network.
"""
from __future__ import annotations

import importlib

from .gateway import SELF_HOSTED_OPENAI, litellm_module


def load_models() -> None:
    litellm = litellm_module()
    importlib.import_module("openai.resources")
    # litellm's first call builds its table of every provider's config (~30 provider modules imported), loads the
    # self-hosted provider's own (gateway.litellm_model), its cost calculators and the source lines of the
    # traceback it keeps when a self-hosted model has no price in its map: ~15 ms of CPU the first model call
    # after a start paid (bench/results.md, litellm_call_cpu). A mock answer (litellm's documented
    # ``mock_response``: no HTTP request, no callback registered) walks the same path: call set-up, provider
    # lookup, parameter mapping, response building, pricing. Left for the first real call: litellm's HTTP client,
    # its connection and its service logger.
    litellm.completion(model=f"{SELF_HOSTED_OPENAI}/gpt-4o-mini", messages=[{"role": "user", "content": "warm up"}],
                       mock_response="warm up")
