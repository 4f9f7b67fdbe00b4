/**
 * What the checks found worth a look but not blocking (a join that reads a step only some
 * paths run). Kept apart from the graph store's problems, which mark steps as broken.
 */
import { create } from "zustand";
import type { PinnedProblem } from "../../graph-core";

interface WarningsStore {
  warnings: PinnedProblem[];
  set(warnings: PinnedProblem[]): void;
}

const NONE: PinnedProblem[] = [];

export const useWarnings = create<WarningsStore>((set) => ({
  warnings: NONE,
  set: (warnings) => set({ warnings: warnings.length ? warnings : NONE }),
}));
