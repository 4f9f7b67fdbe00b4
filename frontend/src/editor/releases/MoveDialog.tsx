/** "Move production here": what will change for live traffic, a note, then the move. */
import { useEffect, useState } from "react";
import { errorText } from "../../api/client";
import { GateRefused } from "../gate/GateRefused";
import { gateRefusal, type GateRefusal } from "../gate/gateWording";
import { useEndpoint } from "../publish/endpointState";
import { Modal } from "../../ui/Modal";
import { toast } from "../../ui/toasts";
import { ErrorNote, ReleaseChangesView } from "./ReleaseChanges";
import { moveLabel, previewMove } from "./releasesApi";
import type { ReleaseChanges } from "./releaseTypes";

export function MoveDialog({ graphId, label, release, onClose, onMoved }: {
  graphId: number; label: string; release: number; onClose: () => void; onMoved: () => void;
}) {
  const [changes, setChanges] = useState<ReleaseChanges | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<GateRefusal | null>(null);
  const canOverride = useEndpoint((s) => s.canPublish);
  useEffect(() => {
    let live = true;
    previewMove(graphId, label, release).then((c) => live && setChanges(c), (e) => live && setError(e));
    return () => { live = false; };
  }, [graphId, label, release]);
  const confirm = async (overrideReason?: string) => {
    setBusy(true);
    setRefusal(null);
    try {
      await moveLabel(graphId, label, release, note, overrideReason);
      toast.success(`${label} now points at release ${release}: the next call runs it.`);
      onMoved();
      onClose();
    } catch (e) {
      const gate = gateRefusal(e);
      if (gate) return setRefusal(gate); // said in the dialog, with the way past it for admins
      setError(e);
      toast.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const from = changes?.from_release;
  return (
    <Modal title={`Move ${label} to release ${release}?`} onClose={onClose} wide testId="release-move-dialog">
      <p>{from ? `Live traffic on ${label} runs release ${from.number} now. After the move, the next call runs release ${release}.`
        : `Nothing is on ${label} yet. After the move, endpoints following it run release ${release}.`}</p>
      <h3>What will change</h3>
      <ErrorNote error={error} />
      {changes ? <ReleaseChangesView graphId={graphId} changes={changes} /> : !error && <p className="muted">Working out the changes…</p>}
      <label className="field"><span>Note (why, for the record)</span>
        <input value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} data-testid="release-move-note" placeholder="e.g. v3 answers billing questions badly" />
      </label>
      {refusal && <GateRefused refusal={refusal} canOverride={canOverride} busy={busy} action={`Move ${label} anyway`}
        onOverride={(reason) => confirm(reason)} />}
      <div className="row end">
        <button className="btn" onClick={onClose}>Cancel</button>
        <button className="btn btn-primary" disabled={!changes || busy} onClick={() => confirm()} data-testid="release-move-confirm">
          Move {label} to release {release}
        </button>
      </div>
    </Modal>
  );
}
