/** An eval run's live progress over /ws/evals/<id>/: whole snapshots, so reconnecting needs no cursor. */
import { useEffect, useState } from "react";

export interface Progress { status: string; done: number; total: number }

export function useEvalProgress(id: string, running: boolean): Progress | null {
  const [progress, setProgress] = useState<Progress | null>(null);
  useEffect(() => {
    if (!running) return;
    let closed = false;
    let socket: WebSocket | null = null;
    const connect = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}/ws/evals/${id}/`);
      socket.onmessage = (m) => {
        const data = JSON.parse(m.data as string) as Progress;
        setProgress({ status: data.status, done: data.done, total: data.total });
      };
      socket.onclose = (e) => {
        if (!closed && e.code < 4000) window.setTimeout(connect, 1000); // 4xxx: refused, do not retry
      };
    };
    connect();
    return () => { closed = true; socket?.close(); };
  }, [id, running]);
  return progress;
}
