"""A version saved only to run unsaved edits says so (reason "run"), so History can fold it under the saves."""
from __future__ import annotations

import copy
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())


def _changed(max_tokens: int) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["nodes"][3]["config"]["params"]["max_tokens"] = max_tokens
    return spec


def test_versions_carry_why_they_were_made(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    ran = alice_api.put(f"/api/graphs/{graph_id}/", {"spec": _changed(7), "reason": "run"}, format="json")
    assert ran.status_code == 201 and ran.json()["latest_version"]["reason"] == "run"
    saved = alice_api.put(f"/api/graphs/{graph_id}/", {"spec": _changed(8)}, format="json")
    assert saved.status_code == 201 and saved.json()["latest_version"]["reason"] == "save"
    versions = alice_api.get(f"/api/graphs/{graph_id}/versions/").json()
    assert [(v["number"], v["reason"]) for v in versions] == [(3, "save"), (2, "run"), (1, "save")]


def test_an_unknown_reason_is_a_400_naming_the_field(alice_api) -> None:  # type: ignore[no-untyped-def]
    graph_id = alice_api.post("/api/graphs/", {"spec": CHAIN}, format="json").json()["id"]
    refused = alice_api.put(f"/api/graphs/{graph_id}/", {"spec": _changed(9), "reason": "whim"}, format="json")
    assert refused.status_code == 400
    assert [p["path"] for p in refused.json()["problems"]] == ["reason"]
    assert [v["number"] for v in alice_api.get(f"/api/graphs/{graph_id}/versions/").json()] == [1]
