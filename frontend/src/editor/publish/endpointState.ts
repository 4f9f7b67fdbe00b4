/**
 * The open flow's endpoint, shared by the header badge, the Publish button and its dialog, and whether
 * the signed-in person may move it (admins only; the server refuses others anyway).
 */
import { create } from "zustand";
import { errorText } from "../../api/client";
import { getSession, listEndpoints, rollbackEndpoint, unpublishEndpoint } from "../../api/endpoints";
import type { Endpoint } from "../../api/types";
import { toast } from "../../ui/toasts";
import { mainEndpoint } from "./liveVersion";

export type Move = "rollback" | "unpublish";

interface EndpointState {
  graphId: number | null;
  endpoint: Endpoint | null;
  canPublish: boolean;
  dialog: boolean;
  /** A rollback or unpublish waiting for its confirmation. */
  confirming: Move | null;
  load(graphId: number | null): void;
  set(patch: Partial<Pick<EndpointState, "endpoint" | "dialog" | "confirming">>): void;
  move(move: Move): Promise<void>;
}

export const useEndpoint = create<EndpointState>((set, get) => ({
  graphId: null, endpoint: null, canPublish: false, dialog: false, confirming: null,
  load(graphId) {
    set({ graphId, endpoint: null, dialog: false, confirming: null });
    getSession().then((s) => set({ canPublish: s.workspace?.role === "admin" }), () => set({ canPublish: false }));
    if (graphId === null) return;
    listEndpoints(graphId).then(
      (list) => get().graphId === graphId && set({ endpoint: mainEndpoint(list) }),
      () => undefined, // the badge stays empty; the dialog loads again when opened
    );
  },
  set: (patch) => set(patch),
  async move(move) {
    const endpoint = get().endpoint;
    if (!endpoint) return;
    try {
      const moved = move === "rollback" ? await rollbackEndpoint(endpoint.slug) : await unpublishEndpoint(endpoint.slug);
      set({ endpoint: moved });
      toast.success(move === "rollback" ? `/${moved.slug} rolled back: callers now run v${moved.version}.` : `/${moved.slug} is unpublished: callers get 404.`);
    } catch (e) {
      toast.error(errorText(e));
    }
  },
}));

/** Rolling back needs an earlier published version to go back to. */
export function canRollBack(endpoint: Endpoint): boolean {
  return endpoint.status === "live" && endpoint.releases.filter((r) => r.action !== "unpublished").length > 1;
}
