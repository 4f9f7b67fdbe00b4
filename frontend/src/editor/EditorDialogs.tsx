/** The editor's dialogs: saving a version (with a message) and the keyboard shortcuts. */
import { useEffect, useRef, useState } from "react";
import { useEditorUi } from "../stores/editorUi";
import { Modal } from "../ui/Modal";
import { saveFromDialog } from "./session/saving";
import type { Shortcut } from "./session/shortcuts";

function SaveDialog({ onClose }: { onClose: () => void }) {
  const [message, setMessage] = useState("");
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <Modal title="Save a new version" onClose={onClose} testId="save-dialog">
      <form onSubmit={(e) => { e.preventDefault(); saveFromDialog(message); }}>
        <label className="field">
          <span className="field-label">What changed? (optional)</span>
          <input ref={ref} value={message} maxLength={500} onChange={(e) => setMessage(e.target.value)} placeholder="e.g. Stricter extraction prompt" data-testid="save-message" />
        </label>
        <p className="muted small">Versions are kept for good: you can compare and restore any of them from History.</p>
        <div className="row end">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button className="btn btn-primary" type="submit" data-testid="save-confirm">Save version</button>
        </div>
      </form>
    </Modal>
  );
}

function ShortcutsHelp({ rows, onClose }: { rows: Shortcut[]; onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <table className="table small"><tbody>{rows.map((r) => <tr key={r.keys}><td><kbd>{r.keys}</kbd></td><td>{r.does}</td></tr>)}</tbody></table>
    </Modal>
  );
}

export function EditorDialogs({ shortcuts }: { shortcuts: Shortcut[] }) {
  const saving = useEditorUi((s) => s.saving);
  const help = useEditorUi((s) => s.help);
  const set = useEditorUi.getState().set;
  return (
    <>
      {saving === "dialog" && <SaveDialog onClose={() => set({ saving: false })} />}
      {help && <ShortcutsHelp rows={shortcuts} onClose={() => set({ help: false })} />}
    </>
  );
}
