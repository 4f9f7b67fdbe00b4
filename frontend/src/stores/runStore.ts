/**
 * The run being watched, kept apart from the graph. Events from the socket are
 * queued and folded once per animation frame, so a burst of token deltas costs
 * one render, not hundreds.
 */
import { create } from "zustand";
import { getRun } from "../api/endpoints";
import type { RunRecord } from "../api/types";
import { applyEvents, emptyRun, FINISHED, stateFromRecord, type RunEvent, type RunState } from "../live/runState";
import { openRunSocket, type RunSocket, type SocketState } from "../live/runSocket";

interface RunStore extends RunState {
  socketState: SocketState | null;
  socketDetail: string | null;
  follow(run: RunRecord, nodeIds: string[]): void;
  show(run: RunRecord, nodeIds: string[]): void;
  clear(): void;
  dropConnection(): void;
}

let socket: RunSocket | null = null;
let pending: RunEvent[] = [];
let frame: number | null = null;

export const useRun = create<RunStore>((set, get) => {
  const flush = () => {
    frame = null;
    const batch = pending;
    pending = [];
    if (!batch.length) return;
    const next = applyEvents(get(), batch);
    set(next);
    if (next.status && FINISHED.includes(next.status) && next.runId) {
      // The full record has every span with its input (rendered prompts) and output.
      const runId = next.runId;
      getRun(runId).then((record) => {
        if (get().runId !== runId) return;
        const full = stateFromRecord(record, Object.keys(get().nodes));
        set({ spans: full.spans, totals: full.totals ?? get().totals });
      }, () => undefined);
    }
  };
  const enqueue = (event: RunEvent) => {
    pending.push(event);
    if (frame === null) frame = requestAnimationFrame(flush);
  };

  return {
    ...emptyRun(),
    socketState: null,
    socketDetail: null,

    follow(run, nodeIds) {
      socket?.close();
      pending = [];
      set({ ...emptyRun(run.id, nodeIds), socketState: "connecting", socketDetail: null });
      socket = openRunSocket({
        runId: run.id,
        lastSeq: () => Math.max(get().lastSeq, ...pending.map((e) => e.seq ?? 0)),
        onEvent: enqueue,
        onState: (state, detail) => set({ socketState: state, socketDetail: detail ?? null }),
        isFinished: () => !!get().status && FINISHED.includes(get().status!),
      });
    },

    show(run, nodeIds) {
      socket?.close();
      socket = null;
      pending = [];
      set({ ...stateFromRecord(run, nodeIds), socketState: null, socketDetail: null });
      if (!FINISHED.includes(run.status)) {
        // Still going: replay everything from the start and follow it.
        get().follow(run, nodeIds);
      }
    },

    clear() {
      socket?.close();
      socket = null;
      pending = [];
      set({ ...emptyRun(), socketState: null, socketDetail: null });
    },

    dropConnection() {
      socket?.drop();
    },
  };
});
