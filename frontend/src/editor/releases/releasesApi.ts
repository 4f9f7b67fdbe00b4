/** The releases API: a graph's releases and labels, a diff between two, what a move changes, the move. */
import { api } from "../../api/client";
import type { ReleaseChanges, Releases } from "./releaseTypes";

export const listReleases = (graph: number) => api<Releases>("GET", `/api/graphs/${graph}/releases/`);
export const diffReleases = (graph: number, from: number, to: number) =>
  api<ReleaseChanges>("GET", `/api/graphs/${graph}/releases/diff/?from=${from}&to=${to}`);
export const previewMove = (graph: number, label: string, release: number) =>
  api<ReleaseChanges>("GET", `/api/graphs/${graph}/labels/${label}/?release=${release}`);
/** ``overrideReason``: an admin moving production past a refusing eval gate (audited). */
export const moveLabel = (graph: number, label: string, release: number, note: string, overrideReason?: string) =>
  api<ReleaseChanges>("PUT", `/api/graphs/${graph}/labels/${label}/`,
    overrideReason ? { release, note, override_reason: overrideReason } : { release, note });
