import type { ReactNode } from "react";
import { navigate } from "../router";

export function TopBar({ account, children }: { account: Account; children?: ReactNode }) {
  return (
    <header className="topbar">
      <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate("/"); }}>
        <span className="logo" />Patchbay
      </a>
      <div className="topbar-main">{children}</div>
      <div className="account">
        <a className="btn btn-ghost" href="/endpoints" data-testid="endpoints-link" onClick={(e) => { e.preventDefault(); navigate("/endpoints"); }}>Endpoints</a>
        <a className="btn btn-ghost" href="/api-keys" data-testid="api-keys-link" onClick={(e) => { e.preventDefault(); navigate("/api-keys"); }}>API keys</a>
        <a className="btn btn-ghost" href="/audit" data-testid="audit-link" onClick={(e) => { e.preventDefault(); navigate("/audit"); }}>Audit log</a>
        <a className="btn btn-ghost" href="/members" onClick={(e) => { e.preventDefault(); navigate("/members"); }} data-testid="members-link">Members</a>
        <span className="muted" data-testid="signed-in-as">{account.user}</span>
        <button className="btn btn-ghost" onClick={account.onSignOut}>Sign out</button>
      </div>
    </header>
  );
}

/** Who is signed in, and how to sign out: what every page's top bar shows. */
export interface Account {
  user: string;
  onSignOut: () => void;
}
