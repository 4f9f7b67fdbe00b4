/** A small query hook: loading / data / error, with reload; one hook per endpoint builds on it. */
import { useCallback, useEffect, useRef, useState } from "react";
import type { Catalogue, GraphChoice } from "../graph-core";
import { catalogueFrom } from "../graph-core";
import * as ep from "./endpoints";
import type { ModelAlias, RunFilters } from "./types";

export interface Query<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useQuery<T>(load: () => Promise<T>, deps: unknown[]): Query<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => call === latest.current && setState({ data, error: null, loading: false }),
      (error) => call === latest.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export const useGraphs = () => useQuery(ep.listGraphs, []);
export const useVersions = (id: number, bump: unknown) => useQuery(() => ep.listVersions(id), [id, bump]);
export const useRuns = (graph: number, filters: RunFilters, bump: unknown) =>
  useQuery(() => ep.listRuns(graph, filters), [graph, JSON.stringify(filters), bump]);

/** The node-type catalogue and model aliases change rarely: loaded once per page. */
let catalogueCache: Promise<Catalogue> | null = null;
let modelsCache: Promise<ModelAlias[]> | null = null;
export function loadCatalogue(): Promise<Catalogue> {
  catalogueCache ??= ep.listNodeTypes().then(catalogueFrom).catch((e) => {
    catalogueCache = null;
    throw e;
  });
  return catalogueCache;
}
export function loadModels(): Promise<ModelAlias[]> {
  modelsCache ??= ep.listModels().catch((e) => {
    modelsCache = null;
    throw e;
  });
  return modelsCache;
}

/** Saved graphs as subgraph pickers offer them; renames and new graphs show after forgetGraphChoices(). */
let graphChoicesCache: Promise<GraphChoice[]> | null = null;
export function loadGraphChoices(): Promise<GraphChoice[]> {
  graphChoicesCache ??= ep.listGraphs().then((list) =>
    list.map((g) => ({ id: g.id, name: g.name, workspace: g.workspace, latest: g.latest_version?.number ?? null })),
  ).catch((e) => {
    graphChoicesCache = null;
    throw e;
  });
  return graphChoicesCache;
}
/** Every mounted useGraphChoices: told to load again when the list is forgotten (a flow was just saved). */
const graphChoiceReloads = new Set<() => void>();
export function forgetGraphChoices(): void {
  graphChoicesCache = null;
  graphChoiceReloads.forEach((reload) => reload());
}
export function useGraphChoices(): Query<GraphChoice[]> {
  const query = useQuery(loadGraphChoices, []);
  const { reload } = query;
  useEffect(() => {
    graphChoiceReloads.add(reload);
    return () => { graphChoiceReloads.delete(reload); };
  }, [reload]);
  return query;
}
