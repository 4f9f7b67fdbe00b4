"""The canvas's frame rate while a 300-node graph's run streams its events and tokens into it.

    .venv/bin/python bench/canvas_stream.py [--seconds 4] [--tokens-per-s 60] [--first-token-ms 300]

The same graph, browser and measure as bench/canvas_300.py (requestAnimationFrame callbacks per second in
headless Debian Chromium without a GPU), plus a Celery worker: the page opens the graph, counts frames while
idle, then starts a run from the Run panel and counts frames while the run's events and the demo model's
tokens (paced like a real model: a first token after --first-token-ms, then --tokens-per-s) arrive over the
websocket and fill in the cards. Both in one browser session, one after the other.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import canvas_300  # noqa: E402
from bench._common import machine, median, table, today, write_section  # noqa: E402
from bench._stack import require_alive, stack_env, start_web, start_worker  # noqa: E402

QUEUE = "bench-canvas-stream"
# The run's events and deltas as the page received them, counted in the page (the socket's messages).
SOCKET_COUNTER = """() => {
  const state = window.__patchbay.run.getState();
  return {status: state.status, seq: state.lastSeq,
          streaming: Object.values(state.nodes).filter((n) => n.status === 'running' && n.text).length};
}"""


def log(message: str) -> None:
    print(f"[canvas_stream] {message}", file=sys.stderr, flush=True)


def pace_the_demo_model(first_token_ms: float, tokens_per_s: float) -> None:
    from backend.providers.models import ModelAlias

    ModelAlias.objects.update_or_create(alias="fast", defaults={
        "model": "demo/fast", "input_cost_per_mtok": 0.15, "output_cost_per_mtok": 0.6,
        "demo_latency_ms": first_token_ms, "demo_tokens_per_s": tokens_per_s, "description": "bench: paced demo"})


# canvas_300's counter, made safe to restart: each window's loop stops itself when a newer window begins.
FRAME_COUNTER = """() => {
  const generation = (window.__frameGeneration = (window.__frameGeneration || 0) + 1);
  window.__frames = [];
  window.__busy = 0;
  if (!window.__longTasks) {
    window.__longTasks = true;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__busy += e.duration; })
      .observe({type: "longtask"});
  }
  const tick = (t) => { if (window.__frameGeneration !== generation) return; window.__frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""
FRAME_RESULT = canvas_300.FRAME_RESULT.replace("window.__counting = false;", "window.__frameGeneration += 1;").replace(
    "frames: f.length};", "frames: f.length, busy_ms: window.__busy};")


def count_frames(page: Any, seconds: float) -> dict[str, Any]:
    page.evaluate(FRAME_COUNTER)
    page.wait_for_timeout(seconds * 1000)
    return page.evaluate(FRAME_RESULT)


def measure(port: int, graph_id: int, seconds: float, windows: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {"idle": [], "streaming": [], "samples": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=canvas_300.CHROMIUM, args=canvas_300.CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        page.set_default_timeout(120_000)
        page.goto(base + "/")
        page.fill("input[name=username]", canvas_300.USER)
        page.fill("input[name=password]", canvas_300.PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("signed-in-as").wait_for()
        page.goto(f"{base}/graphs/{graph_id}")
        page.wait_for_function(f"document.querySelectorAll('.react-flow__node').length >= {canvas_300.NODES}")
        page.keyboard.press("f")  # every node in view: the most drawing per event
        page.wait_for_timeout(800)
        for _ in range(windows):
            out["idle"].append(count_frames(page, seconds))
        page.get_by_test_id("tab-run").click()
        page.get_by_test_id("run-input-text").fill("Streaming benchmark: improve this text, step by step.")
        page.get_by_test_id("run-start").click()
        page.locator("[data-testid=run-header][data-status=running]").wait_for()
        for _ in range(windows):
            if page.evaluate(SOCKET_COUNTER)["status"] != "running":
                break  # only windows while the run streams count
            before = page.evaluate(SOCKET_COUNTER)
            frames = count_frames(page, seconds)
            after = page.evaluate(SOCKET_COUNTER)
            out["streaming"].append(frames)
            out["samples"].append({"events": after["seq"] - before["seq"], "streaming_steps": after["streaming"],
                                   "status": after["status"]})
        out["final"] = page.evaluate(SOCKET_COUNTER)
        browser.close()
    return out


def report(r: dict[str, Any], args: argparse.Namespace) -> str:
    fps = lambda key: [w["fps"] for w in r[key] if w["frames"] > 1]  # noqa: E731
    rows = []
    for key, name in (("idle", "idle (graph open, nothing running)"), ("streaming", "while the run streams")):
        windows = r[key]
        windows = [w for w in windows if w["frames"] > 1]  # a window the page never painted in has no rate
        rows.append([name, f"{median(fps(key)):.1f}", ", ".join(f"{w['fps']:.0f}" for w in windows),
                     f"{median([w['p95'] for w in windows]):.1f}", max(w["worst"] for w in windows) // 1,
                     sum(w["long"] for w in windows), f"{median([w['busy_ms'] for w in windows]):.0f}"])
    samples = "; ".join(f"{s['events']} events, {s['streaming_steps']} steps streaming ({s['status']})" for s in r["samples"])
    return "\n\n".join([
        "## Canvas frame rate while a 300-node run streams (`bench/canvas_stream.py`)",
        f"Measured {today()} on {machine()}; headless Debian Chromium without a GPU, viewport 1440×900, zoomed "
        f"out so all {canvas_300.NODES} nodes are drawn (`bench/canvas_300.py`'s graph: ~150 llm steps in 12 "
        "layers). One browser session: first the open graph with nothing running, then a run started from the Run "
        f"panel, its events and tokens arriving over the websocket. Demo model `fast` paced at "
        f"{args.first_token_ms:.0f} ms to the first token, then {args.tokens_per_s:.0f} tokens/s; "
        f"{len(r['idle'])} windows of {args.seconds:.0f} s each.",
        table(["canvas", "median frames/s", "per window", "p95 frame (ms)", "worst frame (ms)", "long frames (> 50 ms)",
               "page busy per window (ms of long tasks)"], rows),
        f"Run events received per streaming window (persisted ones; token deltas come between them): {samples}. "
        f"At the end: {r['final']['status']}, {r['final']['seq']} events.",
        "Deltas are queued and folded into the run store once per animation frame (`stores/runStore.ts`), and "
        "each card reads only its own run entry, so a burst of tokens costs one render of the cards that "
        "changed, not one per token. A profile of the page while streaming showed the time going to the browser's "
        "own style, layout, paint and raster work, not to JavaScript; what cut it (issue 11, first measured "
        "here at 3–10 frames/s while streaming, same machine and load): a card keeps its size for the whole run "
        "(the run line is always there; streamed text is a bubble under the card, out of its layout), so cards "
        "are not re-measured and their edges not redrawn on every event; an edge keeps its object unless its "
        "look changes, and edges no longer re-derive on every token; in a flow of more than 150 steps running "
        "edges do not animate (moving dashes repainted the whole edge layer every frame, in software here). "
        "The machine is shared (load average 6–10 on 2 cores during these runs), so the worker, the web server "
        "and the browser compete for CPU: the streaming numbers are a floor.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--first-token-ms", type=float, default=500)
    parser.add_argument("--tokens-per-s", type=float, default=40)
    args = parser.parse_args()
    if not Path(canvas_300.CHROMIUM).exists():
        sys.exit(f"{canvas_300.CHROMIUM} is missing: apt-get install chromium")
    canvas_300.ensure_database()
    with tempfile.TemporaryDirectory(prefix="patchbay-canvas-stream-") as data_dir:
        graph_id = canvas_300.setup(data_dir)
        pace_the_demo_model(args.first_token_ms, args.tokens_per_s)
        env = stack_env(canvas_300.DATABASE_URL, canvas_300.REDIS_URL, QUEUE, data_dir)
        worker = start_worker(env, "bench-canvas-stream@%h", concurrency=2)
        web, port = start_web(env)
        try:
            result: dict[str, Any] = {}
            failure: list[BaseException] = []

            def run() -> None:
                try:
                    result.update(measure(port, graph_id, args.seconds, args.windows))
                except BaseException as exc:  # reported from the main thread
                    failure.append(exc)

            thread = threading.Thread(target=run)
            thread.start()  # Playwright's sync API keeps its own loop: away from Django's thread
            thread.join()
            require_alive([worker, web])
            if failure:
                raise failure[0]
        finally:
            web.stop()
            worker.stop()
    log(str(result))
    write_section("canvas_stream", report(result, args))


if __name__ == "__main__":
    main()
