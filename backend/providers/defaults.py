"""Built-in aliases: what "fast", "frontier" and "judge" mean when nothing else is configured.

With no provider key they are demo models, so every example graph runs offline.
The database (ModelAlias rows, seeded from fixtures) overrides them.
"""
from __future__ import annotations

from .routes import ModelRoute

DEFAULT_ROUTES: dict[str, ModelRoute] = {
    "fast": ModelRoute(alias="fast", model="demo/fast", input_cost_per_token=0.15e-6,
                       output_cost_per_token=0.60e-6, demo_latency_ms=20),
    "frontier": ModelRoute(alias="frontier", model="demo/frontier", input_cost_per_token=2.5e-6,
                           output_cost_per_token=10e-6, demo_latency_ms=60),
    "judge": ModelRoute(alias="judge", model="demo/judge", input_cost_per_token=1.0e-6,
                        output_cost_per_token=4.0e-6, demo_latency_ms=40),
}
