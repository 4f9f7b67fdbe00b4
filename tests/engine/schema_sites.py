"""Schema sites for the no-outbound-request tests: a local listener standing in for an internal service,
and graphs with a ``$ref`` at each place a graph holds a JSON schema (tests/engine and tests/graphs use them)."""
from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "graphs" / "chain.json").read_text())
SECRET = "internal-secret-value-42"


class Listener:
    """An internal service on a free port that records every request it gets."""

    def __init__(self) -> None:
        requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                requests.append(self.path)
                body = json.dumps({"enum": [SECRET]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.requests = requests
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal/config.json"
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default) per test.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def with_inputs(schema: dict) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["inputs"] = schema
    return spec


def with_gate_schema(schema: dict) -> dict:
    spec = copy.deepcopy(CHAIN)
    gate = next(n for n in spec["nodes"] if n["type"] == "gate")
    gate["config"]["check"] = {"kind": "json_schema", "value": "{{ nodes.extract.output }}", "schema": schema}
    return spec


def with_output_schema(schema: dict) -> dict:
    spec = copy.deepcopy(CHAIN)
    spec["nodes"][1]["config"]["output_schema"] = schema
    return spec


def sites(url: str) -> list[tuple[dict, str]]:
    """(a graph with a ref to ``url`` at one schema site, the problem path the API must name)."""
    ref = {"type": "object", "properties": {"text": {"$ref": url}}}
    return [
        (with_inputs(ref), "spec.inputs.properties.text.$ref"),
        (with_gate_schema(ref), "spec.nodes[2].config.check.schema.properties.text.$ref"),
        (with_output_schema(ref), "spec.nodes[1].config.output_schema.properties.text.$ref"),
    ]


def problem_paths(response: Any) -> list[str]:
    return [p["path"] for p in response.json()["problems"]]
