"""manage.py rungraph: the same engine from the command line, as a user would call it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def rungraph(*args: str) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}
    return subprocess.run([sys.executable, "manage.py", "rungraph", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_chain_runs_offline_and_prints_the_run_record_as_json() -> None:
    done = rungraph("graphs/chain.json", "--input", json.dumps({"text": "My card was charged twice; refund one."}),
                    "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "succeeded"
    assert record["output"]["category"] == "billing"
    nodes = [s for s in record["spans"] if s["kind"] == "node"]
    assert sorted(s["node_id"] for s in nodes) == sorted(n["id"] for n in json.loads(
        (ROOT / "graphs/chain.json").read_text())["nodes"])
    llm_spans = [s for s in record["spans"] if s["kind"] == "llm"]
    assert llm_spans and all(s["input_tokens"] > 0 and s["output_tokens"] > 0 for s in llm_spans)
    for span in record["spans"]:
        assert {"node_id", "kind", "status", "model", "input_tokens", "output_tokens", "cost_usd",
                "duration_ms"} <= set(span)
    assert record["totals"]["cost_usd"] > 0


def test_the_table_view_shows_spans_and_output() -> None:
    done = rungraph("graphs/chain.json", "--input", json.dumps({"text": "The login page shows an error."}))
    assert done.returncode == 0, done.stderr
    assert "summarize" in done.stdout and "demo/frontier" in done.stdout and "status: succeeded" in done.stdout


def test_an_invalid_graph_exits_non_zero_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    bad = json.loads((ROOT / "graphs/chain.json").read_text())
    bad["nodes"][1]["type"] = "nope"
    bad["edges"].append({"from": "output", "to": "input"})
    bad["nodes"][3]["config"]["prompt"] = "{{ nodes.ghost.output }}"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    done = rungraph(str(path), "--input", "{}")
    assert done.returncode == 1
    assert "nodes[1].type" in done.stderr and "edges[7]" in done.stderr and "nodes[3].config.prompt" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("args, message", [
    (("graphs/chain.json", "--input", "{oops"), "--input is not valid JSON"),
    (("graphs/chain.json", "--input", "{}"), "'text' is required"),
    (("graphs/does-not-exist.json",), "no graph file"),
])
def test_bad_arguments_get_a_clear_message(args: tuple[str, ...], message: str) -> None:
    done = rungraph(*args)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
