/** What the editor header says about a flow's endpoint: live on which version, and whether saves are unpublished. */
import type { Endpoint } from "../../api/types";

export interface LiveIndicator {
  /** "live": callers run the newest saved version; "behind": newer versions are saved but not live; "off": unpublished. */
  tone: "live" | "behind" | "off";
  text: string;
  /** Why, in a sentence (the badge's tooltip). */
  title: string;
}

/**
 * The header's words for an endpoint. `savedVersion` is the editor's newest saved version (a save made
 * after the endpoint was loaded is newer than the endpoint's own `latest_version`). Nothing for a flow
 * that was never published.
 */
export function liveIndicator(endpoint: Pick<Endpoint, "status" | "version" | "latest_version" | "slug"> | null,
  savedVersion: number | null): LiveIndicator | null {
  if (!endpoint || endpoint.status === "draft" || endpoint.version === null) return null;
  const live = endpoint.version;
  if (endpoint.status === "off") {
    return { tone: "off", text: `Unpublished (was v${live})`, title: `/${endpoint.slug} answers 404 until it is published again.` };
  }
  const latest = Math.max(savedVersion ?? 0, endpoint.latest_version ?? 0);
  if (latest > live) {
    return { tone: "behind", text: `Live: v${live} · v${latest} not published`, title: `Callers of /${endpoint.slug} still run v${live}; publish to give them v${latest}.` };
  }
  return { tone: "live", text: `Live: v${live}`, title: `Callers of /${endpoint.slug} run v${live}, the newest saved version.` };
}

/** Which of a flow's endpoints the editor shows: the live one first, then one turned off, then any. */
export function mainEndpoint(endpoints: Endpoint[]): Endpoint | null {
  const rank = (e: Endpoint) => (e.status === "live" ? 0 : e.status === "off" ? 1 : 2);
  return [...endpoints].sort((a, b) => rank(a) - rank(b))[0] ?? null;
}

/** A slug suggested from the flow's name: lowercase letters, digits and hyphens, as the server accepts. */
export function suggestSlug(name: string): string {
  const slug = name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
  return slug || "flow";
}

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/; // the server's rule (endpoints/services.py SLUG)

/** Why the server would refuse this slug, checked before sending; a taken slug is still the server's to say. */
export function slugProblem(slug: string): string | null {
  return SLUG.test(slug) ? null : "1 to 64 lowercase letters, digits and hyphens, starting and ending with a letter or digit";
}
