/** A tiny client router: the URL is the state (/, /login, /graphs/<id>, /graphs/<id>/runs/<run>, /endpoints, /api-keys). */
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();
/** Asked before leaving a page with unsaved work; returning false stays. */
let guard: (() => boolean) | null = null;

export function setNavigationGuard(fn: (() => boolean) | null): void {
  guard = fn;
}

export function navigate(path: string, opts: { replace?: boolean; force?: boolean } = {}): void {
  if (path === location.pathname + location.search) return;
  if (!opts.force && guard && !guard()) return;
  if (opts.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  listeners.forEach((l) => l());
}

window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function usePath(): string {
  return useSyncExternalStore(
    (cb) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    () => location.pathname,
  );
}

export type Route =
  | { page: "graphs" }
  | { page: "login" }
  | { page: "audit" }
  | { page: "members" }
  | { page: "models" }
  | { page: "endpoints" }
  | { page: "apiKeys" }
  | { page: "insights"; graphId: number | null }
  | { page: "datasets"; datasetId: number | null }
  | { page: "evals"; evalId: string | null; compareWith: string | null }
  | { page: "inbox" }
  | { page: "decide"; token: string }
  | { page: "editor"; graphId: number | "new"; runId: string | null }
  | { page: "missing" };

export function parseRoute(path: string): Route {
  if (path === "/" || path === "") return { page: "graphs" };
  if (path === "/login") return { page: "login" };
  if (path === "/audit" || path === "/audit/") return { page: "audit" };
  if (path === "/members" || path === "/members/") return { page: "members" };
  if (path === "/models" || path === "/models/") return { page: "models" };
  if (path === "/endpoints" || path === "/endpoints/") return { page: "endpoints" };
  if (path === "/api-keys" || path === "/api-keys/") return { page: "apiKeys" };
  const insights = /^\/insights(?:\/(\d+))?\/?$/.exec(path);
  if (insights) return { page: "insights", graphId: insights[1] ? Number(insights[1]) : null };
  const d = /^\/datasets(?:\/(\d+))?\/?$/.exec(path);
  if (d) return { page: "datasets", datasetId: d[1] ? Number(d[1]) : null };
  const e = /^\/evals(?:\/([0-9a-f-]+)(?:\/compare\/([0-9a-f-]+))?)?\/?$/.exec(path);
  if (e) return { page: "evals", evalId: e[1] ?? null, compareWith: e[2] ?? null };
  if (path === "/inbox" || path === "/inbox/") return { page: "inbox" };
  const link = /^\/decide\/([^/]+)\/?$/.exec(path);
  if (link) return { page: "decide", token: decodeURIComponent(link[1]) };
  if (path === "/graphs/new") return { page: "editor", graphId: "new", runId: null };
  const m = /^\/graphs\/(\d+)(?:\/runs\/([0-9a-f-]+))?\/?$/.exec(path);
  if (m) return { page: "editor", graphId: Number(m[1]), runId: m[2] ?? null };
  return { page: "missing" };
}
