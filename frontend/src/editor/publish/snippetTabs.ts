/** The snippet tabs of the publish dialog: every snippet the server sends, known ones named and first. */

const KNOWN: [key: string, label: string][] = [
  ["curl", "curl"],
  ["curl_stream", "curl · stream"],
  ["python", "Python"],
  ["javascript", "JavaScript"],
  ["openai_python", "OpenAI · Python"],
  ["openai_javascript", "OpenAI · JavaScript"],
  ["openai_curl", "OpenAI · curl"],
];

export interface SnippetTab {
  key: string;
  label: string;
  code: string;
}

/** A key the dialog does not know yet still gets a tab, named from the key ("go_sdk" → "go sdk"). */
function labelOf(key: string): string {
  return KNOWN.find(([k]) => k === key)?.[1] ?? key.replace(/[_-]+/g, " ").trim();
}

export function snippetTabs(snippets: Record<string, string>): SnippetTab[] {
  const order = (key: string) => {
    const i = KNOWN.findIndex(([k]) => k === key);
    return i === -1 ? KNOWN.length : i;
  };
  return Object.keys(snippets)
    .filter((key) => typeof snippets[key] === "string")
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((key) => ({ key, label: labelOf(key), code: snippets[key] }));
}
