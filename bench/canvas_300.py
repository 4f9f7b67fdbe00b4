"""The canvas with a 300-node graph in headless Chromium: time to first render, frame rate while panning and dragging.

    .venv/bin/python bench/canvas_300.py [--loads 3] [--seconds 3]

Needs PostgreSQL and Redis like the stack benchmark (BENCH_DATABASE_URL / BENCH_REDIS_URL), Debian's
/usr/bin/chromium, and the built canvas (it runs `npm run build` in frontend/ when frontend/dist is missing).
It starts its own Daphne server on the bench database, signs in, opens the graph and measures in the page:
first render = from the start of navigation to all 300 nodes in the DOM (page load, API calls, layout, paint);
frame rate = requestAnimationFrame callbacks per second while the mouse pans the canvas (or drags a node).
Headless Chromium here renders without a GPU, so the frame rates are a floor, not what a laptop shows.
"""
from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine, median, table, today, write_section  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/patchbay_bench_canvas")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USER, PASSWORD = "bench-canvas", "bench-canvas-pass"
NODES = 300


def log(message: str) -> None:
    print(f"[canvas_300] {message}", file=sys.stderr, flush=True)


def big_spec(n: int = NODES, seed: int = 7) -> dict[str, Any]:
    """input → 298 steps in 12 layers (llm, transform and gate steps, each fed by the layer before) → output."""
    rng = random.Random(seed)
    nodes: list[dict[str, Any]] = [{"id": "input", "type": "input", "position": [0, 1300]}]
    edges: list[dict[str, Any]] = []
    layers: list[list[str]] = [["input"]]
    middle = n - 2
    per_layer = -(-middle // 12)
    made = 0
    for layer in range(12):
        ids = []
        for i in range(min(per_layer, middle - made)):
            node_id = f"s{layer}_{i}"
            kind = rng.choice(["llm", "llm", "transform", "gate"])
            parent = rng.choice(layers[-1])
            source = f"nodes.{parent}.output" if parent != "input" else "input.text"
            config: dict[str, Any]
            if kind == "llm":
                config = {"model": "fast", "prompt": f"Step {node_id}: improve this.\n\n{{{{ {source} }}}}"}
            elif kind == "transform":
                config = {"value": {"from": f"{{{{ {source} }}}}", "step": node_id}}
            else:
                config = {"check": {"kind": "compare", "value": f"{{{{ {source} }}}}", "op": "not_empty"}}
            nodes.append({"id": node_id, "type": kind, "position": [(layer + 1) * 240, i * 104], "config": config})
            port = rng.choice(["pass", "fail"]) if parent.startswith("s") and _kind(nodes, parent) == "gate" else None
            edges.append({"from": parent, "to": node_id, **({"port": port} if port else {})})
            ids.append(node_id)
            made += 1
        layers.append(ids)
    last = layers[-1][0]
    nodes.append({"id": "output", "type": "output", "position": [13 * 240, 1300],
                  "config": {"value": f"{{{{ nodes.{last}.output }}}}"}})
    edges.append({"from": last, "to": "output", **({"port": "pass"} if _kind(nodes, last) == "gate" else {})})
    return {"schema": "patchbay.graph/v1", "name": "canvas-300", "inputs": {"type": "object", "properties": {
        "text": {"type": "string"}}, "required": ["text"]}, "nodes": nodes, "edges": edges}


def _kind(nodes: list[dict[str, Any]], node_id: str) -> str:
    return next(n["type"] for n in nodes if n["id"] == node_id)


def ensure_database() -> None:
    url = urlparse(DATABASE_URL)
    conn = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    name = url.path.lstrip("/")
    found = subprocess.run(["psql", *conn, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if found != "1":
        subprocess.run(["createdb", *conn, name], check=True)


def setup(data_dir: str) -> int:
    """Migrate the bench database, make the user and the 300-node graph (ORM, in this process)."""
    os.environ.update({"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "PATCHBAY_DATA_DIR": data_dir,
                       "SECRET_KEY": "bench-only-not-secret", "DJANGO_SETTINGS_MODULE": "backend.config.settings",
                       "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from backend.graphs.models import Graph
    from backend.graphs.services import graph_create, workspace_for_user

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    user = users.filter(username=USER).first() or users.create_user(USER, password=PASSWORD)
    workspace = workspace_for_user(user)
    Graph.objects.filter(workspace=workspace, name="canvas-300").delete()
    return graph_create(workspace=workspace, user=user, spec=big_spec(), message="benchmark").pk


def start_server(data_dir: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATCHBAY_DATA_DIR": data_dir, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    from backend.config.web_cmd import web_argv

    server = subprocess.Popen(web_argv(host="127.0.0.1", port=port), cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server, port
        if server.poll() is not None:
            raise RuntimeError("the web server exited")
        time.sleep(0.1)
    raise RuntimeError("the web server did not start")


FRAME_COUNTER = """() => {
  window.__frames = [];
  window.__counting = true;
  const tick = (t) => { if (!window.__counting) return; window.__frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""
TRANSFORM = "document.querySelector('.react-flow__viewport').style.transform"
FRAME_RESULT = """() => {
  window.__counting = false;
  const f = window.__frames;
  const gaps = f.slice(1).map((t, i) => t - f[i]).sort((a, b) => a - b);
  const seconds = (f[f.length - 1] - f[0]) / 1000;
  return {fps: (f.length - 1) / seconds, p95: gaps[Math.ceil(gaps.length * 0.95) - 1], worst: gaps[gaps.length - 1],
          long: gaps.filter((g) => g > 50).length, frames: f.length};
}"""


def sweep(page: Any, x0: float, y0: float, seconds: float, radius: float = 220) -> None:
    """Hold the mouse down and move it in a circle for `seconds` (each move is one input event, as a hand makes)."""
    import math

    page.mouse.move(x0, y0)
    page.mouse.down()
    started = time.perf_counter()
    step = 0
    while time.perf_counter() - started < seconds:
        angle = step / 30 * math.tau
        page.mouse.move(x0 + radius * math.cos(angle) - radius, y0 + radius * math.sin(angle))
        step += 1
    page.mouse.up()


def measure(port: int, graph_id: int, loads: int, seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {"first_render_ms": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(base + "/")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("signed-in-as").wait_for()
        for _ in range(loads):
            page.goto(f"{base}/graphs/{graph_id}")
            page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length >= {NODES}")
            out["first_render_ms"].append(page.evaluate("performance.now()"))
        page.wait_for_timeout(800)
        out["visible_at_fit"] = page.evaluate("document.querySelectorAll('.react-flow__node').length")
        box = page.get_by_test_id("canvas").bounding_box()
        # Pan with every node in view (zoomed out to fit: the worst case for drawing).
        page.keyboard.press("f")
        page.wait_for_timeout(400)
        page.evaluate(FRAME_COUNTER)
        before = page.evaluate(TRANSFORM)
        sweep(page, box["x"] + 30, box["y"] + 30, seconds, radius=120)
        out["pan_fit"] = {**page.evaluate(FRAME_RESULT), "moved": page.evaluate(TRANSFORM) != before}
        # Pan at 100 % zoom, the working zoom (nodes outside the view are not rendered).
        page.evaluate("window.__patchbay.flow.setViewport({x: 0, y: -900, zoom: 1})")
        page.wait_for_timeout(400)
        out["visible_at_zoom"] = page.evaluate("document.querySelectorAll('.react-flow__node').length")
        page.evaluate(FRAME_COUNTER)
        before = page.evaluate(TRANSFORM)
        sweep(page, box["x"] + 30, box["y"] + 30, seconds)
        out["pan_zoomed"] = {**page.evaluate(FRAME_RESULT), "moved": page.evaluate(TRANSFORM) != before}
        # Drag one node around.
        node = page.locator(".react-flow__node").nth(5)
        node_id = node.get_attribute("data-id")
        where = f"JSON.stringify(window.__patchbay.graph.getState().nodes.find((n) => n.id === '{node_id}').position)"
        box5, before = node.bounding_box(), page.evaluate(where)
        page.evaluate(FRAME_COUNTER)
        sweep(page, box5["x"] + box5["width"] / 2, box5["y"] + 10, seconds, radius=150)
        out["drag"] = {**page.evaluate(FRAME_RESULT), "moved": page.evaluate(where) != before}
        browser.close()
    return out


def report(r: dict[str, Any], loads: int, seconds: float) -> str:
    def row(name: str, key: str, visible: Any) -> list[object]:
        m = r[key]
        if not m.get("moved"):
            name += " (did not move!)"
        return [name, visible, f"{m['fps']:.1f}", f"{m['p95']:.1f}", f"{m['worst']:.0f}", m["long"]]

    first = r["first_render_ms"]
    return "\n\n".join([
        "## Canvas with 300 nodes in the browser (`bench/canvas_300.py`)",
        f"Measured {today()} on {machine()}; headless Debian Chromium without a GPU (software rendering), "
        "viewport 1440×900, the built canvas served by Daphne. The graph: input → 298 llm / transform / gate steps "
        "in 12 layers → output (299 edges).",
        f"**Time to first render** (navigation start → all {NODES} nodes in the DOM, including sign-in cookie, "
        f"API calls for the graph, node types and models, and layout): median **{median(first):.0f} ms** over "
        f"{loads} loads ({', '.join(f'{v:.0f}' for v in first)} ms).",
        f"**Frames while moving** ({seconds:.0f} s of continuous mouse movement each; frame rate = "
        "requestAnimationFrame callbacks per second; a long frame is > 50 ms):",
        table(["interaction", "nodes rendered", "frames/s", "p95 frame (ms)", "worst frame (ms)", "long frames"], [
            row("pan, zoomed out to fit all 300", "pan_fit", r["visible_at_fit"]),
            row("pan at working zoom (off-screen nodes not rendered)", "pan_zoomed", r["visible_at_zoom"]),
            row("drag one node", "drag", r["visible_at_zoom"]),
        ]),
        "How it stays smooth: node components are memoised and read only their own slice of the stores (catalogue "
        "entry, problems, run state), run events are folded once per animation frame, and above 150 nodes the canvas "
        "renders only the nodes in view (`onlyRenderVisibleElements`).",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install chromium")
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        log("building the canvas")
        subprocess.run(["npm", "run", "build"], cwd=ROOT / "frontend", check=True)
    ensure_database()
    with tempfile.TemporaryDirectory(prefix="patchbay-canvas-bench-") as data_dir:
        graph_id = setup(data_dir)
        server, port = start_server(data_dir)
        try:
            log(f"graph {graph_id} on port {port}")
            result: dict[str, Any] = {}
            failure: list[BaseException] = []

            def run() -> None:
                try:
                    result.update(measure(port, graph_id, args.loads, args.seconds))
                except BaseException as exc:  # reported from the main thread
                    failure.append(exc)

            worker = threading.Thread(target=run)
            worker.start()  # Playwright's sync API keeps its own loop: run it away from Django's thread
            worker.join()
            if failure:
                raise failure[0]
        finally:
            server.terminate()
            server.wait(timeout=15)
    log(str(result))
    write_section("canvas_300", report(result, args.loads, args.seconds))


if __name__ == "__main__":
    main()
