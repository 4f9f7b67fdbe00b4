import { useEffect, type ReactNode } from "react";

export function Modal(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean; testId?: string }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && props.onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [props]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <div className={`modal ${props.wide ? "modal-wide" : ""}`} role="dialog" aria-label={props.title} data-testid={props.testId}>
        <div className="modal-head">
          <h2>{props.title}</h2>
          <button className="icon-btn" aria-label="Close" onClick={props.onClose}>×</button>
        </div>
        <div className="modal-body">{props.children}</div>
      </div>
    </div>
  );
}

/** A yes/no question that names what will happen. */
export function Confirm(props: { title: string; text: string; confirm: string; danger?: boolean; onConfirm: () => void; onClose: () => void }) {
  return (
    <Modal title={props.title} onClose={props.onClose} testId="confirm-dialog">
      <p>{props.text}</p>
      <div className="row end">
        <button className="btn" onClick={props.onClose}>Cancel</button>
        <button className={`btn ${props.danger ? "btn-danger" : "btn-primary"}`} data-testid="confirm-yes" autoFocus
          onClick={() => { props.onConfirm(); props.onClose(); }}>
          {props.confirm}
        </button>
      </div>
    </Modal>
  );
}
