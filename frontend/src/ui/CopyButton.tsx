import { useEffect, useState } from "react";
import { copyText } from "./clipboard";
import { toast } from "./toasts";

/** A copy button that says "Copied" for a moment, so a click is seen to have worked. */
export function CopyButton({ text, testId, label = "Copy", small = true }: { text: string; testId: string; label?: string; small?: boolean }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = window.setTimeout(() => setCopied(false), 2000);
    return () => window.clearTimeout(t);
  }, [copied]);
  const copy = async () => {
    if (await copyText(text)) setCopied(true);
    else toast.error("The browser refused to copy: select the text and press Ctrl+C.");
  };
  return (
    <button type="button" className={`btn ${small ? "btn-small" : ""}`} onClick={copy} data-testid={testId} data-copied={copied ? "yes" : "no"}>
      {copied ? "Copied" : label}
    </button>
  );
}
