/** fetch with the session cookie, the CSRF header, and the API's one error shape turned into ApiError. */
import type { Problem } from "../graph-core";

export class ApiError extends Error {
  status: number;
  code: string;
  problems: Problem[];
  constructor(status: number, code: string, message: string, problems: Problem[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Called when any request answers 401/403 for lack of a session: the app shows the sign-in page. */
let onSignedOut: (() => void) | null = null;
export function setSignedOutHandler(handler: (() => void) | null): void {
  onSignedOut = handler;
}

const FRIENDLY: Record<number, string> = {
  404: "That item does not exist any more (or is not in your workspace).",
  413: "That is too large to send.",
  429: "Too many requests: wait a moment and try again.",
  500: "Something went wrong on the server. Nothing was changed; your work on this page is kept.",
  502: "The server is not answering right now. Your work on this page is kept; try again in a moment.",
  503: "The server is not answering right now. Your work on this page is kept; try again in a moment.",
  504: "The server took too long to answer. Your work on this page is kept; try again.",
};

export async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  let response: Response;
  try {
    response = await fetch(url, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "Patchbay cannot be reached: check your connection. Your work on this page is kept.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // an HTML error page from a proxy: never shown as is
  }
  if (!response.ok) {
    const shaped = data && typeof data === "object" ? (data as { error?: string; message?: string; problems?: Problem[] }) : {};
    if ((response.status === 401 || response.status === 403) && shaped.error === "not_authenticated") onSignedOut?.();
    const message = response.status >= 500 || !shaped.message ? FRIENDLY[response.status] ?? shaped.message ?? `The server answered ${response.status}.` : shaped.message;
    throw new ApiError(response.status, shaped.error ?? "error", message, Array.isArray(shaped.problems) ? shaped.problems : []);
  }
  return data as T;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return "Something unexpected happened in the page. Your work is kept; try again.";
  return String(error);
}
