/** The editor's keyboard shortcuts: one table drives both the key handler and the help dialog. */
import { useEffect } from "react";
import { useEditorUi } from "../../stores/editorUi";
import { useGraph } from "../../stores/graphStore";
import { toast } from "../../ui/toasts";
import type { CanvasActions } from "./useCanvasActions";
import { openSaveDialog } from "./saving";
import { runFromForm } from "./running";

export interface Shortcut {
  /** As shown in the help. */
  keys: string;
  does: string;
  /** Whether a key event is this shortcut; absent: handled elsewhere (React Flow), listed for the help only. */
  matches?: (e: KeyboardEvent, mod: boolean, key: string) => boolean;
  /** Also while typing in a field. */
  whileTyping?: boolean;
  /** Keep the browser's own meaning of the key from happening too. */
  preventDefault?: boolean;
  act?: () => void;
}

function copy(): void {
  const n = useGraph.getState().copySelection();
  if (n) toast.info(`Copied ${n} step${n > 1 ? "s" : ""}.`);
}

export function shortcuts(actions: CanvasActions, graphKey: string): Shortcut[] {
  const g = () => useGraph.getState();
  return [
    { keys: "Ctrl+S", does: "Save a version", matches: (_, mod, k) => mod && k === "s", whileTyping: true, preventDefault: true, act: openSaveDialog },
    { keys: "Ctrl+Enter", does: "Run", matches: (e, mod) => mod && e.key === "Enter", whileTyping: true, preventDefault: true, act: () => runFromForm(graphKey) },
    { keys: "Ctrl+Z", does: "Undo", matches: (e, mod, k) => mod && k === "z" && !e.shiftKey, preventDefault: true, act: () => g().undo() },
    { keys: "Ctrl+Shift+Z", does: "Redo", matches: (e, mod, k) => mod && (k === "y" || (k === "z" && e.shiftKey)), preventDefault: true, act: () => g().redo() },
    { keys: "Ctrl+C", does: "Copy the selected steps", matches: (_, mod, k) => mod && k === "c", act: copy },
    { keys: "Ctrl+V", does: "Paste steps", matches: (_, mod, k) => mod && k === "v", act: () => g().paste() },
    { keys: "Ctrl+D", does: "Duplicate the selection", matches: (_, mod, k) => mod && k === "d", preventDefault: true, act: () => { if (g().copySelection()) g().paste(); } },
    { keys: "Ctrl+A", does: "Select every step", matches: (_, mod, k) => mod && k === "a", preventDefault: true, act: () => g().selectAll() },
    { keys: "Delete", does: "Delete the selection" },
    { keys: "Shift+drag", does: "Select several steps" },
    { keys: "F", does: "Zoom to fit", matches: (_, mod, k) => !mod && k === "f", act: actions.fit },
    { keys: "L", does: "Tidy up the layout", matches: (_, mod, k) => !mod && k === "l", act: actions.tidy },
    { keys: "?", does: "Show these shortcuts", matches: (e) => e.key === "?", act: () => useEditorUi.getState().set({ help: true }) },
    { keys: "Esc", does: "Clear the selection", matches: (e) => e.key === "Escape", act: () => g().select(null) },
  ];
}

function isTyping(target: EventTarget | null): boolean {
  const t = target as HTMLElement | null;
  return !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
}

export function useShortcuts(actions: CanvasActions, graphKey: string): void {
  useEffect(() => {
    const table = shortcuts(actions, graphKey);
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const typing = isTyping(e.target);
      const hit = table.find((s) => s.matches?.(e, mod, e.key.toLowerCase()) && (s.whileTyping || !typing));
      if (!hit) return;
      if (hit.preventDefault) e.preventDefault();
      hit.act?.();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [actions, graphKey]);
}
