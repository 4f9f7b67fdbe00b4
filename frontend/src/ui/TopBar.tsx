import { useCallback, useState, type ReactNode } from "react";
import { navigate, parseRoute, usePath } from "../router";
import "./menu.css";
import { useDismiss } from "./useDismiss";

const PAGES: { path: string; label: string; testId: string }[] = [
  { path: "/insights", label: "Insights", testId: "insights-link" },
  { path: "/datasets", label: "Datasets", testId: "datasets-link" },
  { path: "/evals", label: "Evals", testId: "evals-link" },
  { path: "/inbox", label: "Inbox", testId: "inbox-link" },
  { path: "/endpoints", label: "Endpoints", testId: "endpoints-link" },
  { path: "/models", label: "Models", testId: "models-link" },
  { path: "/api-keys", label: "API keys", testId: "api-keys-link" },
  { path: "/audit", label: "Audit log", testId: "audit-link" },
  { path: "/members", label: "Members", testId: "members-link" },
];

function go(path: string) {
  return (e: React.MouseEvent) => { e.preventDefault(); navigate(path); };
}

/** The editor's bar is full of its tools, so there the workspace pages and signing out fold into one menu. */
function PagesMenu({ account }: { account: Account }) {
  const [open, setOpen] = useState(false);
  const box = useDismiss<HTMLSpanElement>(open, useCallback(() => setOpen(false), []));
  return (
    <span className="pages-menu" ref={box}>
      <button className="btn btn-ghost" onClick={() => setOpen(!open)} aria-haspopup="menu" aria-expanded={open} data-testid="pages-menu">
        <span data-testid="signed-in-as">{account.user}</span> ▾
      </button>
      {open && (
        <div className="menu menu-right" role="menu">
          {PAGES.map((p) => <a key={p.path} role="menuitem" href={p.path} onClick={go(p.path)} data-testid={`menu-${p.testId}`}>{p.label}</a>)}
          <button role="menuitem" onClick={account.onSignOut}>Sign out</button>
        </div>
      )}
    </span>
  );
}

export function TopBar({ account, children }: { account: Account; children?: ReactNode }) {
  const path = usePath();
  const inEditor = parseRoute(path).page === "editor";
  return (
    <header className="topbar">
      <a className="brand" href="/" onClick={go("/")}>
        <span className="logo" />Patchbay
      </a>
      <div className="topbar-main">{children}</div>
      <div className="account">
        {inEditor ? <PagesMenu account={account} /> : <>
          {PAGES.map((p) => (
            <a key={p.path} className={`btn btn-ghost ${path.startsWith(p.path) ? "btn-active" : ""}`} href={p.path} onClick={go(p.path)}
              aria-current={path.startsWith(p.path) ? "page" : undefined} data-testid={p.testId}>{p.label}</a>
          ))}
          <span className="muted" data-testid="signed-in-as">{account.user}</span>
          <button className="btn btn-ghost" onClick={account.onSignOut}>Sign out</button>
        </>}
      </div>
    </header>
  );
}

/** Who is signed in, and how to sign out: what every page's top bar shows. */
export interface Account {
  user: string;
  onSignOut: () => void;
}
