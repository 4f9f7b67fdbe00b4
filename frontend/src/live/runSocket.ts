/**
 * The run's websocket: replays stored events after the last seq it has, then follows
 * live ones. A dropped connection reconnects with ?after=<last seq>, so nothing is
 * missed and nothing is applied twice.
 */
import { parseSocketMessage } from "../api/events";
import type { RunEvent } from "./runState";

export type SocketState = "connecting" | "open" | "reconnecting" | "closed" | "refused";

export interface RunSocketOptions {
  runId: string;
  lastSeq: () => number;
  onEvent: (event: RunEvent) => void;
  onState: (state: SocketState, detail?: string) => void;
  isFinished: () => boolean;
}

export interface RunSocket {
  close(): void;
  /** Drop the connection as a network would (for tests and the "reconnect" button). */
  drop(): void;
}

const REFUSALS: Record<number, string> = {
  4401: "Your session has ended: sign in again to follow this run.",
  4403: "This run is not in your workspace.",
  4400: "The live view asked for a bad position in the run.",
};

export function openRunSocket(opts: RunSocketOptions): RunSocket {
  let ws: WebSocket | null = null;
  let closed = false;
  let attempt = 0;
  let timer: number | undefined;

  const connect = () => {
    if (closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws/runs/${opts.runId}/?after=${opts.lastSeq()}`;
    opts.onState(attempt ? "reconnecting" : "connecting");
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      opts.onState("open");
    };
    socket.onmessage = (msg) => {
      let data: unknown;
      try {
        data = JSON.parse(msg.data as string);
      } catch {
        return; // a malformed frame is ignored; the next reconnect replays from the last good seq
      }
      // Checked against events.json's shape (api/events.ts): a message that is not one is dropped, not guessed at.
      const checked = parseSocketMessage(data);
      if (!checked.ok) {
        console.warn("run socket: ignored a message that is not a run event:", checked.reason);
        return;
      }
      const event = checked.message;
      if (event.type === "pong" || event.type === "error") return;
      opts.onEvent(event as RunEvent);
      if (event.type === "run.completed") {
        closed = true;
        socket.close(1000);
        opts.onState("closed");
      }
    };
    socket.onclose = (ev) => {
      if (ws !== socket) return;
      ws = null;
      if (closed || opts.isFinished()) {
        opts.onState("closed");
        return;
      }
      if (REFUSALS[ev.code]) {
        closed = true;
        opts.onState("refused", REFUSALS[ev.code]);
        return;
      }
      attempt += 1;
      opts.onState("reconnecting");
      timer = window.setTimeout(connect, Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
    };
  };
  connect();
  return {
    close() {
      closed = true;
      window.clearTimeout(timer);
      ws?.close(1000);
    },
    drop() {
      ws?.close(4000, "dropped");
    },
  };
}
