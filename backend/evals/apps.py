from __future__ import annotations

from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "backend.evals"
    label = "evals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The run-finished subscriber (scores eval items, samples endpoint traffic) and the "on every change"
        # triggers (a new graph or prompt version starts an eval): runs and graphs import nothing from here.
        from backend.insights.evidence import register_route_eval_source
        from backend.releases.services import register_production_gate

        from . import hooks  # noqa: F401
        from .gate import production_gate
        from .route_evidence import route_model_evidence

        register_production_gate(production_gate)  # publish and moves of ``production`` pass it first
        # The advisor's cheaper-model-on-a-route rule reads the held-out evals that tried another model.
        register_route_eval_source(route_model_evidence)
