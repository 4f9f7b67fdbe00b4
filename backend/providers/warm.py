"""Load, before the first model call, what the first model call would otherwise load: litellm (with its price map
and tokenizers, gateway.litellm_module) and the OpenAI SDK's resource classes, which the SDK imports only when a
client first touches ``.chat`` (~0.7 s of imports that made the first run after a start that much slower).

Called from a worker's background warm-up (backend/runs/worker_start.py); nothing here calls a model or the network.
"""
from __future__ import annotations

import importlib

from .gateway import litellm_module


def load_models() -> None:
    litellm_module()
    importlib.import_module("openai.resources")
