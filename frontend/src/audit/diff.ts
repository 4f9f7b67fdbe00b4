/** A readable diff of an audit entry's before/after: one line per changed field, nested objects flattened. */

export interface Change {
  path: string; // "scopes", "limits.daily" …; "" for a value that is not an object
  kind: "added" | "removed" | "changed";
  from?: unknown;
  to?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Fields that differ between before and after (null before: everything was added; null after: removed). */
export function changes(before: unknown, after: unknown, path = ""): Change[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => {
      const sub = path ? `${path}.${k}` : k;
      if (!(k in before)) return [{ path: sub, kind: "added" as const, to: after[k] }];
      if (!(k in after)) return [{ path: sub, kind: "removed" as const, from: before[k] }];
      return changes(before[k], after[k], sub);
    });
  }
  if ((before === null || before === undefined) && isObject(after)) {
    return Object.entries(after).map(([k, v]) => ({ path: path ? `${path}.${k}` : k, kind: "added" as const, to: v }));
  }
  if (isObject(before) && (after === null || after === undefined)) {
    return Object.entries(before).map(([k, v]) => ({ path: path ? `${path}.${k}` : k, kind: "removed" as const, from: v }));
  }
  if (same(before, after)) return [];
  return [{ path, kind: "changed", from: before, to: after }];
}

/** A value as a person reads it: null is "—", lists are comma-separated, booleans are yes/no. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value)) return value.length ? value.map(show).join(", ") : "none";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

const ACTION_WORDS: Record<string, string> = {
  "endpoint.published": "Published endpoint",
  "endpoint.rolled_back": "Rolled back endpoint",
  "endpoint.unpublished": "Unpublished endpoint",
  "endpoint.label_changed": "Changed which label an endpoint serves",
  "prompt.label_moved": "Moved prompt label",
  "release.label_moved": "Moved release label",
  "api_key.created": "Created API key",
  "api_key.updated": "Changed API key",
  "api_key.revoked": "Revoked API key",
  "retention.changed": "Changed retention",
  "spend_cap.changed": "Changed spend cap",
  "member.added": "Added member",
  "member.removed": "Removed member",
  "member.role_changed": "Changed role",
  "model.created": "Added model",
  "model.updated": "Changed model",
  "model.switched_off": "Switched model off",
  "model.switched_on": "Switched model on",
};

export function actionWords(action: string): string {
  return ACTION_WORDS[action] ?? action;
}
