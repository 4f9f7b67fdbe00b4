/** The releases API's shapes (backend/releases/serializers.py). */
export interface Release {
  id: number;
  number: number;
  version: number;
  labels: string[];
  prompts: Record<string, string>;
  models: Record<string, { model: string } | null>;
  reason: string;
  cause: { prompt?: string; label?: string; from?: number | null; to?: number };
  note: string;
  created_by: string | null;
  created_at: string;
}
export interface ReleaseLabel { name: string; release: number; version: number; moved_by: string | null; moved_at: string }
export interface LabelMove {
  label: string;
  from_release: number | null;
  to_release: number;
  reason: string;
  note: string;
  actor: string | null;
  created_at: string;
}
export interface Releases { releases: Release[]; labels: ReleaseLabel[]; moves: LabelMove[] }
export interface PromptChange { ref: string; before: string | null; after: string | null; lines: { op: " " | "-" | "+"; text: string }[] }
export interface ModelChange {
  alias: string;
  change: "added" | "removed" | "changed";
  before: { model: string } | null;
  after: { model: string } | null;
  fields: { path: string; before: unknown; after: unknown }[];
}
export interface ReleaseChanges {
  label?: string;
  changes_nothing: boolean;
  summary: string[];
  prompts: PromptChange[];
  models: ModelChange[];
  from_release: { id: number; number: number; version: number } | null;
  to_release: { id: number; number: number; version: number };
}
