"""A run says where it was started (canvas, replay, api, ...), so the runs list can show it."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())


def test_the_caller_names_the_source_and_the_list_shows_it(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    made = {}
    for source in ("canvas", "replay", None):
        body = {"graph": graph_id, "input": {"text": f"from {source}"}}
        if source:
            body["source"] = source
        response = alice_api.post("/api/runs/", body, format="json")
        assert response.status_code == 201, response.json()
        made[response.json()["id"]] = source or "api"
    listed = {r["id"]: r["source"] for r in alice_api.get("/api/runs/", {"graph": graph_id}).json()}
    assert listed == made


def test_a_caller_cannot_claim_to_be_an_endpoint(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    refused = alice_api.post("/api/runs/", {"graph": graph_id, "input": {"text": "x"}, "source": "endpoint"},
                             format="json")
    assert refused.status_code == 400
    assert [p["path"] for p in refused.json()["problems"]] == ["source"]
    assert alice_api.get("/api/runs/", {"graph": graph_id}).json() == []
