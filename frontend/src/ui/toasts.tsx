import { create } from "zustand";

export type ToastKind = "info" | "success" | "error" | "warning";
interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}
interface ToastStore {
  toasts: Toast[];
  push(kind: ToastKind, text: string, ms?: number): void;
  dismiss(id: number): void;
  /** Drop every toast of a kind: a success makes earlier errors about the same action stale. */
  clear(kind: ToastKind): void;
}
let next = 1;
export const useToasts = create<ToastStore>((set, get) => ({
  toasts: [],
  push(kind, text, ms = kind === "error" ? 7000 : 3500) {
    const id = next++;
    set({ toasts: [...get().toasts.filter((t) => t.text !== text), { id, kind, text }].slice(-4) });
    window.setTimeout(() => get().dismiss(id), ms);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
  clear(kind) {
    set({ toasts: get().toasts.filter((t) => t.kind !== kind) });
  },
}));

export const toast = {
  info: (t: string) => useToasts.getState().push("info", t),
  success: (t: string) => {
    useToasts.getState().clear("error");
    useToasts.getState().push("success", t);
  },
  error: (t: string) => useToasts.getState().push("error", t),
  warning: (t: string) => useToasts.getState().push("warning", t),
};

export function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} data-testid={`toast-${t.kind}`} onClick={() => dismiss(t.id)}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
