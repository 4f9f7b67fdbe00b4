import { useEffect, useState } from "react";
import type { Json } from "../../graph-core";

function show(v: Json | undefined): string {
  return v === undefined ? "" : JSON.stringify(v, null, 2);
}

/**
 * JSON typed as text, for the few settings that are JSON by nature (a JSON schema, a list of
 * templates): kept as typed until it parses, and said so when it does not.
 */
export function JsonText(props: { value: Json | undefined; objectOnly: boolean; testId: string; invalid: boolean;
  onChange: (v: Json | undefined) => void; placeholder?: string }) {
  const [text, setText] = useState(show(props.value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText((t) => {
      try {
        return JSON.stringify(JSON.parse(t)) === JSON.stringify(props.value) ? t : show(props.value);
      } catch {
        return t.trim() === "" && props.value === undefined ? t : error ? t : show(props.value);
      }
    });
  }, [props.value]); // eslint-disable-line react-hooks/exhaustive-deps
  const change = (t: string) => {
    setText(t);
    if (!t.trim()) {
      setError(null);
      return props.onChange(undefined);
    }
    try {
      const v = JSON.parse(t) as Json;
      if (props.objectOnly && (typeof v !== "object" || v === null || Array.isArray(v))) return setError("This must be a JSON object: { … }");
      setError(null);
      props.onChange(v);
    } catch {
      setError("This is not valid JSON yet.");
    }
  };
  return (
    <>
      <textarea className={`nodrag nowheel mono ${props.invalid || error ? "invalid" : ""}`} spellCheck={false}
        rows={Math.min(12, Math.max(3, text.split("\n").length))} value={text} data-testid={props.testId}
        placeholder={props.placeholder} onChange={(e) => change(e.target.value)} />
      {error && <span className="warn small">{error}</span>}
    </>
  );
}
