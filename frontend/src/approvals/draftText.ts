/** A draft as the person edits it: text as is, anything else as formatted JSON (read back the same way). */
export function draftToText(draft: unknown): string {
  if (typeof draft === "string") return draft;
  return JSON.stringify(draft ?? null, null, 2);
}

/** The edited text as the value to send: a string draft stays a string; other drafts must still be valid JSON. */
export function textToDraft(original: unknown, text: string): { ok: true; value: unknown } | { ok: false } {
  if (typeof original === "string") return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
